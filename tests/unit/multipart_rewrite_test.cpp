#include "s3ha/proxy/multipart_rewrite.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/proxy/upload_id.hpp"

#include <catch2/catch.hpp>
#include <pugixml.hpp>

#include <chrono>
#include <vector>

using namespace s3ha;
using namespace s3ha::proxy;

namespace {

backend_config make(std::string name, std::string secret) {
    backend_config b;
    b.name = std::move(name);
    b.secret_key = std::move(secret);
    return b;
}

const std::vector<backend_config> k_backends = {make("a", "secret-a"), make("b", "secret-b")};

std::string id_of(std::size_t backend, std::string_view original) {
    return *encode_upload_id(k_backends.at(backend), original);
}

// All texts of elements with this local name, in document order.
std::vector<std::string> texts(const std::string& xml, const char* name) {
    pugi::xml_document doc;
    REQUIRE(doc.load_string(xml.c_str()));
    std::vector<std::string> out;
    for (auto n : doc.select_nodes((std::string("//*[local-name()='") + name + "']").c_str())) {
        out.emplace_back(n.node().text().get());
    }
    return out;
}

std::string decoded(const std::string& s3ha_id) {
    auto d = decode_upload_id(s3ha_id, k_backends);
    REQUIRE(d);
    return d->original;
}

} // namespace

TEST_CASE("rewrites_upload_ids: the three listing/creating operations", "[unit][multipart]") {
    CHECK(rewrites_upload_ids(s3_operation::create_multipart_upload));
    CHECK(rewrites_upload_ids(s3_operation::list_multipart_uploads));
    CHECK(rewrites_upload_ids(s3_operation::list_parts));
    CHECK_FALSE(rewrites_upload_ids(s3_operation::upload_part));
    CHECK_FALSE(rewrites_upload_ids(s3_operation::complete_multipart_upload));
    CHECK_FALSE(rewrites_upload_ids(s3_operation::get_object));
}

TEST_CASE("accepts_pinned_request: down or drained backends take no upload request",
          "[unit][multipart]") {
    health_check_config hc;
    hc.rise = 1;
    hc.fall = 1;
    const auto t0 = std::chrono::steady_clock::now();
    upstream::backend_state s(hc, t0);
    CHECK(accepts_pinned_request(s)); // unchecked: tried (a dead one fails to connect: 503)
    s.record_check(true, std::chrono::milliseconds(1), "ok", t0);
    CHECK(accepts_pinned_request(s));
    s.set_drained(true);
    CHECK_FALSE(accepts_pinned_request(s));
    s.set_drained(false);
    s.record_check(false, std::chrono::milliseconds(1), "refused", t0);
    REQUIRE_FALSE(s.up());
    CHECK_FALSE(accepts_pinned_request(s));
    s.record_check(true, std::chrono::milliseconds(1), "ok", t0);
    CHECK(accepts_pinned_request(s)); // back up: the upload continues there
}

TEST_CASE("translate_upload_ids: pins by uploadId and sends the original", "[unit][multipart]") {
    SECTION("no upload id: nothing pinned, query unchanged") {
        for (std::string_view q : {"", "uploads", "list-type=2&prefix=a%2Fb", "partNumber=1&x"}) {
            auto r = translate_upload_ids(q, k_backends);
            REQUIRE(r);
            CHECK_FALSE(r->pinned_backend);
            CHECK_FALSE(r->query); // unchanged
        }
    }
    SECTION("UploadPart: other parameters kept byte for byte, the original URI-encoded") {
        const auto q = "partNumber=2&uploadId=" + id_of(1, "abc+/=x y") + "&x-id=UploadPart";
        auto r = translate_upload_ids(q, k_backends);
        REQUIRE(r);
        CHECK(r->pinned_backend == 1u);
        CHECK(*r->query == "partNumber=2&uploadId=abc%2B%2F%3Dx%20y&x-id=UploadPart");
    }
    SECTION("a percent-encoded s3ha id and an encoded parameter name are read too") {
        auto id = id_of(0, "orig");
        auto r =
            translate_upload_ids("upload%49d=" + id.replace(id.find('.'), 1, "%2E"), k_backends);
        REQUIRE(r);
        CHECK(r->pinned_backend == 0u);
        CHECK(*r->query == "uploadId=orig");
    }
    SECTION("ids not issued by s3ha are NoSuchUpload") {
        for (std::string q :
             {std::string("uploadId=abc"), std::string("uploadId="),
              "uploadId=" + id_of(0, "orig") + "x", std::string("upload%49d=abc")}) {
            auto r = translate_upload_ids(q, k_backends);
            REQUIRE_FALSE(r);
            CHECK(r.error() == errc::no_such_upload);
        }
        auto bad = translate_upload_ids("uploadId=%zz", k_backends);
        CHECK(bad.error() == errc::invalid_uri);
    }
    SECTION("uploadId twice is refused") {
        auto r = translate_upload_ids("uploadId=" + id_of(0, "x") + "&uploadId=" + id_of(0, "x"),
                                      k_backends);
        CHECK(r.error() == errc::invalid_argument);
    }
    SECTION("upload-id-marker pins the listing to the backend of its first page") {
        auto r = translate_upload_ids("uploads&key-marker=k&upload-id-marker=" + id_of(1, "m/1") +
                                          "&max-uploads=2",
                                      k_backends);
        REQUIRE(r);
        CHECK(r->pinned_backend == 1u);
        CHECK(*r->query == "uploads&key-marker=k&upload-id-marker=m%2F1&max-uploads=2");
        auto first = translate_upload_ids("uploads&upload-id-marker=", k_backends);
        REQUIRE(first);
        CHECK_FALSE(first->pinned_backend);
        CHECK_FALSE(first->query); // an empty marker: unchanged
        CHECK(translate_upload_ids("uploads&upload-id-marker=zzz", k_backends).error() ==
              errc::invalid_argument);
    }
    SECTION("uploadId and upload-id-marker of different backends are refused") {
        auto r = translate_upload_ids(
            "uploadId=" + id_of(0, "x") + "&upload-id-marker=" + id_of(1, "y"), k_backends);
        CHECK(r.error() == errc::invalid_argument);
    }
}

TEST_CASE("rewrite_upload_ids_xml: CreateMultipartUpload result", "[unit][multipart]") {
    const std::string body =
        R"(<?xml version="1.0" encoding="UTF-8"?>)"
        "\n"
        R"(<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
        "<Bucket>bk</Bucket><Key>a &amp; b &lt;c&gt; &#233;t&#xE9;</Key>"
        "<UploadId>orig+/id==</UploadId></InitiateMultipartUploadResult>";
    auto r = rewrite_upload_ids_xml(body, k_backends[0], true);
    REQUIRE(r);
    const auto ids = texts(*r, "UploadId");
    REQUIRE(ids.size() == 1);
    CHECK(decoded(ids[0]) == "orig+/id==");
    CHECK(r->find("orig+/id==") == std::string::npos);
    // Entities decode to the same text and the namespace and declaration survive.
    CHECK(texts(*r, "Key") == std::vector<std::string>{"a & b <c> \xC3\xA9t\xC3\xA9"});
    CHECK(r->find(R"(xmlns="http://s3.amazonaws.com/doc/2006-03-01/")") != std::string::npos);
    CHECK(r->starts_with("<?xml"));
    pugi::xml_document doc;
    REQUIRE(doc.load_string(r->c_str()));
    CHECK(std::string_view(doc.document_element().name()) == "InitiateMultipartUploadResult");
}

TEST_CASE("rewrite_upload_ids_xml: ListMultipartUploads and ListParts", "[unit][multipart]") {
    SECTION("every upload and both markers") {
        const std::string body =
            R"(<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
            "<Bucket>bk</Bucket><KeyMarker>k0</KeyMarker><UploadIdMarker>m0</UploadIdMarker>"
            "<NextKeyMarker>k2</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>"
            "<MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>"
            "<Upload><Key>k1</Key><UploadId>u1</UploadId></Upload>"
            "<Upload><Key>k2</Key><UploadId>u2</UploadId></Upload>"
            "</ListMultipartUploadsResult>";
        auto r = rewrite_upload_ids_xml(body, k_backends[1], false);
        REQUIRE(r);
        auto ids = texts(*r, "UploadId");
        REQUIRE(ids.size() == 2);
        CHECK(decoded(ids[0]) == "u1");
        CHECK(decoded(ids[1]) == "u2");
        CHECK(decode_upload_id(ids[1], k_backends)->backend_index == 1);
        CHECK(decoded(texts(*r, "UploadIdMarker").at(0)) == "m0");
        CHECK(decoded(texts(*r, "NextUploadIdMarker").at(0)) == "u2");
        CHECK(texts(*r, "NextKeyMarker") == std::vector<std::string>{"k2"});
    }
    SECTION("an empty listing: empty markers stay empty") {
        const std::string body =
            R"(<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult )"
            R"(xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bk</Bucket>)"
            "<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker/>"
            "<NextUploadIdMarker/><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>"
            "</ListMultipartUploadsResult>";
        auto r = rewrite_upload_ids_xml(body, k_backends[0], false);
        REQUIRE(r);
        CHECK(texts(*r, "UploadIdMarker") == std::vector<std::string>{""});
        CHECK(texts(*r, "NextUploadIdMarker") == std::vector<std::string>{""});
        CHECK(texts(*r, "UploadId").empty());
    }
    SECTION("ListParts, prefixed namespace") {
        const std::string body =
            R"(<s3:ListPartsResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">)"
            "<s3:Bucket>bk</s3:Bucket><s3:Key>k</s3:Key><s3:UploadId>p1</s3:UploadId>"
            "<s3:Part><s3:PartNumber>1</s3:PartNumber><s3:ETag>&quot;e1&quot;</s3:ETag></s3:Part>"
            "</s3:ListPartsResult>";
        auto r = rewrite_upload_ids_xml(body, k_backends[0], false);
        REQUIRE(r);
        CHECK(decoded(texts(*r, "UploadId").at(0)) == "p1");
        CHECK(texts(*r, "ETag") == std::vector<std::string>{"\"e1\""});
    }
}

TEST_CASE("rewrite_upload_ids_xml: refusals", "[unit][multipart]") {
    // Not XML, truncated XML, an empty body.
    for (std::string_view bad : {"", "not xml", "<A><UploadId>x</UploadId>", "<A></B>"}) {
        CHECK(rewrite_upload_ids_xml(bad, k_backends[0], false).error() ==
              errc::upstream_protocol_error);
    }
    // A creation result without an id is not passed on as if it were fine.
    CHECK(rewrite_upload_ids_xml("<InitiateMultipartUploadResult><UploadId/>"
                                 "</InitiateMultipartUploadResult>",
                                 k_backends[0], true)
              .error() == errc::upstream_protocol_error);
    // An id too long to wrap is an error, never passed on unrewritten.
    const std::string huge =
        "<R><UploadId>" + std::string(k_max_original_upload_id + 1, 'x') + "</UploadId></R>";
    CHECK(rewrite_upload_ids_xml(huge, k_backends[0], false).error() == errc::invalid_argument);
}
