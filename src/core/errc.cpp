#include "s3ha/core/errc.hpp"

#include <string>

namespace s3ha {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "s3ha"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::access_denied: return "access denied";
        case errc::signature_does_not_match: return "signature does not match";
        case errc::invalid_access_key_id: return "unknown access key id";
        case errc::request_time_too_skewed: return "request time too skewed";
        case errc::request_expired: return "request has expired";
        case errc::authorization_header_malformed: return "authorization header malformed";
        case errc::authorization_query_parameters_error:
            return "authorization query parameters error";
        case errc::invalid_region: return "credential scope region is not this server's";
        case errc::missing_security_header: return "missing required security header";
        case errc::unsupported_algorithm: return "unsupported authorization algorithm";
        case errc::invalid_content_sha256: return "invalid x-amz-content-sha256";
        case errc::content_sha256_mismatch: return "body does not match x-amz-content-sha256";
        case errc::expires_too_large: return "X-Amz-Expires above 7 days";
        case errc::header_not_signed: return "a header that must be signed is not signed";
        case errc::chunk_signature_mismatch: return "aws-chunked signature does not match";
        case errc::chunk_bad_size: return "aws-chunked size is not valid hex";
        case errc::chunk_missing_crlf: return "aws-chunked framing: CRLF expected";
        case errc::chunk_bad_extension: return "aws-chunked chunk extension malformed";
        case errc::chunk_too_large: return "aws-chunked chunk above the size limit";
        case errc::chunk_trailing_data: return "data after the end of the aws-chunked body";
        case errc::chunk_bad_trailer: return "aws-chunked trailer malformed";
        case errc::incomplete_body: return "body ended early";
        case errc::decoded_length_mismatch:
            return "decoded length differs from x-amz-decoded-content-length";
        case errc::bad_digest: return "checksum does not match";
        case errc::invalid_request: return "invalid request";
        case errc::invalid_uri: return "invalid URI";
        case errc::invalid_argument: return "invalid argument";
        case errc::request_header_too_large: return "request header too large";
        case errc::request_timeout: return "request timeout";
        case errc::method_not_allowed: return "method not allowed";
        case errc::not_implemented: return "not implemented";
        case errc::missing_content_length: return "missing content length";
        case errc::loop_detected: return "proxy loop detected";
        case errc::no_such_upload: return "no such upload";
        case errc::upload_backend_down: return "the backend of this upload is unavailable";
        case errc::upload_ids_too_large: return "response too large to rewrite its upload ids";
        case errc::too_many_connections: return "too many connections";
        case errc::chunk_buffer_full:
            return "no room in server.max_aws_chunk_buffer_per_worker to hold an aws-chunked chunk";
        case errc::duplicate_signed_header: return "a signed header appears more than once";
        case errc::duplicate_query_parameter: return "a query parameter appears more than once";
        case errc::semicolon_in_query: return "a raw ';' in the query";
        case errc::connection_names_end_to_end_header:
            return "the Connection header names a header that is not hop-by-hop";
        case errc::transfer_encoding_on_http10: return "Transfer-Encoding on HTTP/1.0";
        case errc::unsupported_transfer_encoding: return "Transfer-Encoding other than chunked";
        case errc::no_healthy_backend: return "no healthy backend";
        case errc::upstream_connect_failed: return "upstream connect failed";
        case errc::upstream_tls_failed: return "upstream TLS handshake failed";
        case errc::upstream_certificate_verify_failed:
            return "upstream TLS certificate verify failed";
        case errc::upstream_timeout: return "upstream timeout";
        case errc::upstream_protocol_error: return "upstream protocol error";
        case errc::slow_down: return "slow down";
        case errc::internal_error: return "internal error";
        }
        return "s3ha error " + std::to_string(ev);
    }
};

} // namespace

const boost::system::error_category& s3ha_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace s3ha
