#include "s3ha/http/s3_error.hpp"

#include <pugixml.hpp>
#include <sstream>

namespace s3ha {

using boost::beast::http::status;

s3_error_info describe_error(const boost::system::error_code& ec) noexcept {
    if (ec.category() != s3ha_category()) {
        return {status::internal_server_error, "InternalError",
                "We encountered an internal error. Please try again."};
    }
    switch (static_cast<errc>(ec.value())) {
    case errc::access_denied: return {status::forbidden, "AccessDenied", "Access Denied"};
    case errc::signature_does_not_match:
    case errc::chunk_signature_mismatch:
        return {status::forbidden, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method."};
    case errc::invalid_access_key_id:
        return {status::forbidden, "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records."};
    case errc::request_time_too_skewed:
        return {status::forbidden, "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large."};
    case errc::request_expired: return {status::forbidden, "AccessDenied", "Request has expired"};
    case errc::authorization_header_malformed:
        return {status::bad_request, "AuthorizationHeaderMalformed",
                "The authorization header is malformed."};
    case errc::invalid_region:
        return {status::bad_request, "AuthorizationHeaderMalformed",
                "The authorization header is malformed; the region is wrong for this endpoint."};
    case errc::authorization_query_parameters_error:
        return {status::bad_request, "AuthorizationQueryParametersError",
                "Error parsing the X-Amz-Credential parameter or another query auth parameter."};
    case errc::expires_too_large:
        return {status::bad_request, "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week (in seconds) that is 604800"};
    case errc::header_not_signed:
        return {status::forbidden, "AccessDenied",
                "There were headers present in the request which were not signed",
                "HeadersNotSigned"};
    case errc::missing_security_header:
        return {status::bad_request, "MissingSecurityHeader",
                "Your request is missing a required header."};
    case errc::unsupported_algorithm:
        return {status::bad_request, "InvalidRequest",
                "The authorization mechanism you have provided is not supported. Please use "
                "AWS4-HMAC-SHA256."};
    case errc::invalid_content_sha256:
        return {status::bad_request, "InvalidArgument",
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a SHA-256 hex "
                "value."};
    case errc::content_sha256_mismatch:
        return {status::bad_request, "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed."};
    case errc::chunk_bad_size:
    case errc::chunk_missing_crlf:
    case errc::chunk_bad_extension:
    case errc::chunk_too_large:
    case errc::chunk_trailing_data:
    case errc::chunk_bad_trailer:
        return {status::bad_request, "InvalidRequest", "The aws-chunked body is malformed."};
    case errc::incomplete_body:
    case errc::decoded_length_mismatch:
        return {status::bad_request, "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP "
                "header."};
    case errc::bad_digest:
        return {status::bad_request, "BadDigest",
                "The checksum you specified did not match the calculated checksum."};
    case errc::invalid_request: return {status::bad_request, "InvalidRequest", "Invalid Request"};
    case errc::invalid_uri:
        return {status::bad_request, "InvalidURI", "Couldn't parse the specified URI."};
    case errc::invalid_argument:
        return {status::bad_request, "InvalidArgument", "Invalid Argument"};
    case errc::request_header_too_large:
        return {status::bad_request, "RequestHeaderSectionTooLarge",
                "Your request header section exceeds the maximum allowed size."};
    case errc::request_timeout:
        return {status::bad_request, "RequestTimeout",
                "Your socket connection to the server was not read from or written to within "
                "the timeout period."};
    case errc::method_not_allowed:
        return {status::method_not_allowed, "MethodNotAllowed",
                "The specified method is not allowed against this resource."};
    case errc::not_implemented:
        return {status::not_implemented, "NotImplemented",
                "A header you provided implies functionality that is not implemented."};
    case errc::missing_content_length:
        return {status::length_required, "MissingContentLength",
                "You must provide the Content-Length HTTP header."};
    case errc::loop_detected:
        return {status::bad_request, "InvalidRequest",
                "The request already passed through this proxy (Via loop)."};
    case errc::no_such_upload:
        return {status::not_found, "NoSuchUpload",
                "The specified multipart upload does not exist. The upload ID may be invalid, or "
                "the upload may have been aborted or completed."};
    case errc::upload_backend_down:
        return {status::service_unavailable, "ServiceUnavailable",
                "The backend that holds this multipart upload is unavailable; retry later. The "
                "parts of an upload are never sent to another backend."};
    case errc::upload_ids_too_large:
        return {status::internal_server_error, "InternalError",
                "The backend's answer is too large for its upload ids to be rewritten; request "
                "fewer items (max-uploads, max-parts)."};
    case errc::duplicate_signed_header:
        return {status::bad_request, "InvalidRequest",
                "A signed header appears more than once in the request; send it once.",
                "HeaderName"};
    case errc::duplicate_query_parameter:
        return {status::bad_request, "InvalidRequest",
                "A query parameter appears more than once in the request; send it once.",
                "ArgumentName"};
    case errc::semicolon_in_query:
        return {status::bad_request, "InvalidURI",
                "Couldn't parse the specified URI: the query contains a raw ';' (send it "
                "percent-encoded, as %3B)."};
    case errc::connection_names_end_to_end_header:
        return {status::bad_request, "InvalidRequest",
                "The Connection header may name only hop-by-hop headers (keep-alive, close, te, "
                "trailer, upgrade, proxy-*).",
                "HeaderName"};
    case errc::transfer_encoding_on_http10:
        return {status::bad_request, "InvalidRequest",
                "Transfer-Encoding is not allowed on an HTTP/1.0 request.", "Header"};
    case errc::unsupported_transfer_encoding:
        return {status::not_implemented, "NotImplemented",
                "A header you provided implies functionality that is not implemented: "
                "Transfer-Encoding must be exactly `chunked`.",
                "Header"};
    case errc::too_many_connections:
    case errc::chunk_buffer_full:
    case errc::slow_down:
        return {status::service_unavailable, "SlowDown", "Please reduce your request rate."};
    case errc::no_healthy_backend:
    case errc::upstream_connect_failed:
    case errc::upstream_tls_failed:
    case errc::upstream_certificate_verify_failed:
    case errc::upstream_timeout:
    case errc::upstream_protocol_error:
        return {status::service_unavailable, "ServiceUnavailable",
                "The service is unavailable. Please retry."};
    case errc::internal_error: break;
    }
    return {status::internal_server_error, "InternalError",
            "We encountered an internal error. Please try again."};
}

std::string render_s3_error_xml(std::string_view code, std::string_view message,
                                std::string_view resource, std::string_view request_id,
                                s3_error_detail detail) {
    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";
    auto error = doc.append_child("Error");
    auto add = [&](const char* name, std::string_view value) {
        error.append_child(name).text().set(std::string(value).c_str());
    };
    add("Code", code);
    add("Message", message);
    if (!detail.element.empty() && !detail.value.empty()) {
        add(std::string(detail.element).c_str(), detail.value);
    }
    add("Resource", resource);
    add("RequestId", request_id);
    std::ostringstream out;
    doc.save(out, "", pugi::format_raw);
    return out.str();
}

} // namespace s3ha
