// Reading a whole (small) upstream response body into memory, bounded: the one exception to
// "bodies are streamed" (relay.hpp), for the S3 XML answers whose upload ids s3ha rewrites
// (multipart_rewrite.hpp). Thread affinity: the worker thread owning the stream.
#pragma once

#include "s3ha/core/any_stream.hpp"

#include <chrono>
#include <cstddef>
#include <span>
#include <string>

namespace s3ha::proxy {

/// Reads the rest of the body of the response whose header `rp` has read (from `up` and
/// `up_buffer`, through `buffer`) and appends it to `out`. A body announced or found to be
/// larger than `limit` bytes fails with errc::upload_ids_too_large as soon as that is known;
/// idle_timeout bounds each read. Other errors are the read's (the connection is then unusable).
awaitable<error_code> read_response_body(any_stream& up, beast::flat_buffer& up_buffer,
                                         http::response_parser<http::buffer_body>& rp,
                                         std::span<char> buffer, std::size_t limit,
                                         std::chrono::milliseconds idle_timeout, std::string& out);

} // namespace s3ha::proxy
