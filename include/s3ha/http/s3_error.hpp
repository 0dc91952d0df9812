// The one place that turns an internal error into what an S3 client sees: HTTP status, S3 error
// Code and message, rendered as the S3 XML error body.
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
#pragma once

#include "s3ha/core/errc.hpp"

#include <boost/beast/http/status.hpp>
#include <string>
#include <string_view>

namespace s3ha {

struct s3_error_info {
    boost::beast::http::status status;
    std::string_view code;    // S3 error Code, e.g. "SignatureDoesNotMatch"
    std::string_view message; // S3's usual message for that Code
    /// The element that names what the error is about (HeadersNotSigned, HeaderName, ...);
    /// empty when the error names nothing.
    std::string_view detail_element = {};
};

/// The thing an error names: e.g. the unsigned header's name, in <HeadersNotSigned>.
struct s3_error_detail {
    std::string_view element;
    std::string_view value;
};

/// Status, Code and message for an error. Errors outside s3ha's category are InternalError.
s3_error_info describe_error(const boost::system::error_code& ec) noexcept;

/// <Error><Code/><Message/>[<detail.element>detail.value</...>]<Resource/><RequestId/></Error>
/// with an XML declaration; every field is XML-escaped.
std::string render_s3_error_xml(std::string_view code, std::string_view message,
                                std::string_view resource, std::string_view request_id,
                                s3_error_detail detail = {});

} // namespace s3ha
