#include "s3ha/http/s3_error.hpp"

#include <catch2/catch.hpp>

using namespace s3ha;

TEST_CASE("s3 errors map to the status and Code S3 uses", "[unit][s3_error]") {
    auto sig = describe_error(make_error_code(errc::signature_does_not_match));
    CHECK(sig.status == boost::beast::http::status::forbidden);
    CHECK(sig.code == "SignatureDoesNotMatch");
    CHECK(describe_error(make_error_code(errc::request_expired)).code == "AccessDenied");
    CHECK(describe_error(make_error_code(errc::incomplete_body)).code == "IncompleteBody");
    CHECK(describe_error(make_error_code(errc::invalid_uri)).code == "InvalidURI");
    auto no_backend = describe_error(make_error_code(errc::no_healthy_backend));
    CHECK(no_backend.status == boost::beast::http::status::service_unavailable);
    CHECK(no_backend.code == "ServiceUnavailable");
    auto no_upload = describe_error(make_error_code(errc::no_such_upload));
    CHECK(no_upload.status == boost::beast::http::status::not_found);
    CHECK(no_upload.code == "NoSuchUpload");
    auto pinned_down = describe_error(make_error_code(errc::upload_backend_down));
    CHECK(pinned_down.status == boost::beast::http::status::service_unavailable);
    CHECK(pinned_down.code == "ServiceUnavailable");
    CHECK(describe_error(make_error_code(errc::upload_ids_too_large)).code == "InternalError");
    // Anything outside our category is a bug, never a bare 500 without a Code.
    auto other = describe_error(make_error_code(boost::system::errc::io_error));
    CHECK(other.code == "InternalError");
}

TEST_CASE("s3 error XML is escaped and complete", "[unit][s3_error]") {
    auto xml = render_s3_error_xml("NoSuchKey", "a <b> & \"c\"", "/bucket/k&y", "req-1");
    CHECK(xml == "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
                 "<Message>a &lt;b&gt; &amp; \"c\"</Message><Resource>/bucket/k&amp;y</Resource>"
                 "<RequestId>req-1</RequestId></Error>");
}
