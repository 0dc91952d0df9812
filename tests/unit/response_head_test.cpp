// http::response_head: the limits it shares with the Beast parser that re-parses its bytes.
#include "s3ha/http/response_head.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace s3ha;

TEST_CASE("response_head refuses a field that Beast's basic_fields would throw on",
          "[unit][read_header]") {
    for (const std::size_t size : {std::size_t{65533}, std::size_t{65534}}) {
        const std::string header =
            "HTTP/1.1 200 OK\r\nx-amz-meta-big: " + std::string(size, 'v') + "\r\n\r\n";
        response_head head;
        head.header_limit(1024 * 1024);
        error_code ec;
        head.put(net::buffer(header), ec);
        INFO(size);
        if (size <= 65533) {
            CHECK(!ec);
            CHECK(head.is_header_done());
        } else {
            CHECK(ec == http::error::header_limit);
        }
    }
}
