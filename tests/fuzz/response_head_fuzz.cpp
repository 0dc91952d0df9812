// Fuzz target: s3ha::response_head (http/response_head.hpp), the view-based parser of a
// backend's response header, against Beast's http::response_parser on the same bytes. Both read
// the header exactly as the forwarder does: src/http/read_header.cpp's loop (put() on what is
// buffered and not yet parsed, read more, consume the header's bytes once it is whole) on a 16
// KiB-reserved flat_buffer, the wire arriving in reads of chosen sizes, informational (1xx) headers
// skipped, with the forwarder's limits (header_limit = 2 x max_header_size, no body limit, skip for
// a HEAD request).
//
// Oracles:
//  1. The same outcome: the same error (a parse error, header_limit, partial_message, ...) or
//     both accept, leaving the same bytes buffered. Beast's parser throwing (basic_fields takes
//     no field name or value over 65533 bytes) is header_limit, as read_header answers it.
//  2. When both accept: the same status, reason, version, fields (codes, names and values; in
//     the received order among fields of the same name, the order that carries meaning:
//     basic_fields moves a repeated field next to the first of its name), keep_alive, need_eof,
//     content_length, chunked and upgrade. The views are compared only when the forwarder reads
//     them: no read moved the partly parsed bytes (header_bytes::moved) and views_within(header
//     bytes) holds. (A move missed here is a use after free that ASan reports, or garbled views.)
//  3. views_within(header bytes) holds unless a read moved them or the header has an obsolete
//     line folding (then Beast hands out views into its own scratch buffer).
//  4. The forwarder's re-parse: a fresh response_parser<buffer_body> (header_limit lifted, as
//     there) fed the header bytes read_header returned accepts them, whole, as a complete header
//     ("failing now would be a bug").
#include "fuzz_check.hpp"

#include "s3ha/core/net.hpp"
#include "s3ha/http/response_head.hpp"
#include "s3ha/upstream/connection_pool.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using s3ha::error_code;
namespace http = boost::beast::http;

struct limits {
    std::uint32_t header = 0;
    bool skip = false;
};

// The forwarder's settings (forwarder.cpp, set_limits).
void set_limits(http::basic_parser<false>& p, const limits& l) {
    p.body_limit(std::numeric_limits<std::uint64_t>::max());
    p.header_limit(l.header);
    if (l.skip) p.skip(true);
}

// The backend's side of the connection: `wire` arrives in reads of the given sizes (then in
// reads as large as asked), then the connection closes.
struct wire_stream {
    std::string_view wire;
    const std::vector<std::size_t>* reads = nullptr;
    std::size_t pos = 0;
    std::size_t next = 0;

    std::size_t read_some(boost::asio::mutable_buffer into) {
        std::size_t n = std::min(into.size(), wire.size() - pos);
        if (next < reads->size()) n = std::min(n, (*reads)[next++]);
        if (n == 0) return 0; // the connection closed (wire.data() may be null)
        std::memcpy(into.data(), wire.data() + pos, n);
        pos += n;
        return n;
    }
};

struct read_result {
    error_code ec;
    bool threw = false;      // Beast's basic_fields refused a field (std::length_error)
    std::string_view header; // read_header's header_bytes: bytes
    bool moved = false;      // and moved
};

// src/http/read_header.cpp's loop, step for step, on a wire_stream: what the forwarder does to
// read a response header into either parser. read_header is a coroutine over a socket; this copy
// must follow any change made there (a shared, socket-free step function would remove the copy).
read_result read_header(wire_stream& stream, boost::beast::flat_buffer& buffer,
                        http::basic_parser<false>& parser) {
    constexpr std::size_t k_max_read = 65536;
    read_result r;
    std::size_t parsed = 0; // used by put() but kept in `buffer` until the header is whole
    while (true) {
        if (buffer.size() > parsed) {
            const auto* begin = static_cast<const char*>(buffer.data().data());
            std::size_t used = 0;
            try {
                used =
                    parser.put(boost::asio::buffer(begin + parsed, buffer.size() - parsed), r.ec);
            } catch (const std::length_error&) {
                r.threw = true; // read_header answers header_limit
                r.ec = http::error::header_limit;
            }
            parsed += used;
            if (r.ec != http::error::need_more) {
                r.header = {begin, parsed};
                buffer.consume(parsed);
                return r;
            }
            r.ec = {};
        }
        const std::size_t size = boost::beast::read_size(buffer, k_max_read);
        if (size == 0) {
            r.ec = http::error::buffer_overflow;
        } else {
            const void* before = buffer.data().data();
            const auto into = buffer.prepare(size);
            r.moved = r.moved || (parsed > 0 && buffer.data().data() != before);
            const std::size_t n = stream.read_some(into);
            buffer.commit(n);
            if (n == 0) { // eof
                r.ec =
                    parser.got_some() ? http::error::partial_message : http::error::end_of_stream;
            }
        }
        if (r.ec) {
            buffer.consume(parsed);
            return r;
        }
    }
}

// put() of a whole header, reporting Beast's basic_fields exception as a refusal.
struct put_result {
    std::size_t used = 0;
    error_code ec;
    bool threw = false;
};

put_result put(http::basic_parser<false>& p, std::string_view bytes) {
    put_result r;
    try {
        r.used = p.put(boost::asio::buffer(bytes.data(), bytes.size()), r.ec);
    } catch (const std::length_error&) {
        r.threw = true;
    }
    return r;
}

bool has_obs_fold(std::string_view header) {
    for (std::size_t i = 0; i + 2 < header.size(); ++i) {
        if (header[i] == '\r' && header[i + 1] == '\n' &&
            (header[i + 2] == ' ' || header[i + 2] == '\t')) {
            return true;
        }
    }
    return false;
}

// One header field as both parsers report it.
struct field {
    http::field code = http::field::unknown;
    std::string_view name;
    std::string_view value;

    bool operator==(const field&) const = default;
};

// The fields in the order that carries meaning (RFC 9110 §5.3): by name, ASCII
// case-insensitively, keeping the received order among fields of the same name. basic_fields
// moves a repeated field next to the first of its name; response_head keeps the wire order.
std::vector<field> by_name(std::vector<field> fields) {
    std::stable_sort(fields.begin(), fields.end(), [](const field& a, const field& b) {
        return boost::beast::iless()(a.name, b.name);
    });
    return fields;
}

std::string list(const std::vector<field>& fields) {
    std::string out;
    for (const auto& f : fields)
        out.append(f.name).append(": ").append(f.value).append("\n");
    return out;
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    limits l;
    // From below the smallest header to the largest server.max_header_size * 2 (2 MiB).
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: l.header = in.ConsumeIntegralInRange<std::uint32_t>(0, 256); break;
    case 1: l.header = in.ConsumeIntegralInRange<std::uint32_t>(256, 8192); break;
    case 2: l.header = 128U * 1024; break; // the default: max_header_size 64KiB * 2
    default: l.header = 2U * 1024 * 1024; break;
    }
    l.skip = in.ConsumeBool();
    std::vector<std::size_t> reads;
    for (int i = in.ConsumeIntegralInRange<int>(0, 8); i > 0; --i) {
        reads.push_back(in.ConsumeIntegralInRange<std::size_t>(1, 4096));
    }
    // The rest is what the backend sent, in an allocation of its own size (ASan sees overreads).
    const std::vector<char> bytes = in.ConsumeRemainingBytes<char>();
    const std::string_view wire(bytes.data(), bytes.size());

    // The forwarder: informational responses are read and dropped, each by a fresh parser, from
    // the same connection buffer (a pooled connection's, 16 KiB reserved).
    wire_stream ours{wire, &reads};
    boost::beast::flat_buffer our_buffer;
    our_buffer.reserve(s3ha::upstream::connection::k_buffer_size);
    std::optional<s3ha::response_head> head;
    read_result h;
    do {
        set_limits(head.emplace(), l);
        h = read_header(ours, our_buffer, *head);
        S3HA_FUZZ_CHECK(!h.threw, "response_head threw");
    } while (!h.ec && head->result_int() / 100 == 1);

    // Beast's parser, the same way (its own copy of the connection).
    wire_stream theirs{wire, &reads};
    boost::beast::flat_buffer their_buffer;
    their_buffer.reserve(s3ha::upstream::connection::k_buffer_size);
    std::optional<http::response_parser<http::buffer_body>> beast;
    read_result b;
    do {
        set_limits(beast.emplace(), l);
        b = read_header(theirs, their_buffer, *beast);
    } while (!b.ec && beast->get().result_int() / 100 == 1);

    // Oracle 1 (Beast's throw counts as header_limit, as read_header answers it).
    S3HA_FUZZ_CHECK(h.ec == b.ec, h.ec.message() + " vs Beast " + b.ec.message());
    if (h.ec) return 0; // the same refusal
    S3HA_FUZZ_CHECK(our_buffer.size() == their_buffer.size(), "consumed differently");

    const std::string_view raw = h.header;
    // Oracle 4 first: the forwarder re-parses every response it holds, rebuilds or rewrites.
    http::response_parser<http::buffer_body> again;
    set_limits(again, l);
    again.header_limit(std::numeric_limits<std::uint32_t>::max()); // as forwarder.cpp's reparse
    const put_result a = put(again, raw);
    S3HA_FUZZ_CHECK(!a.threw, "response_head accepted a header the forwarder's re-parse throws "
                              "on (basic_fields takes no field over 65533 bytes)");
    S3HA_FUZZ_CHECK(!a.ec && again.is_header_done() && a.used == raw.size(),
                    "the forwarder's re-parse of the header bytes fails: " + a.ec.message());

    // Oracle 3: the forwarder reads the views only when they were not moved and views_within
    // says so.
    const bool within = !h.moved && head->views_within(raw);
    S3HA_FUZZ_CHECK(within || h.moved || has_obs_fold(raw),
                    "views outside the header without obs-fold");

    // Oracle 2.
    const auto& m = beast->get();
    S3HA_FUZZ_CHECK(head->is_header_done() && beast->is_header_done(), "accepted but not done");
    S3HA_FUZZ_CHECK(head->result_int() == m.result_int(), "status differs");
    S3HA_FUZZ_CHECK(head->version() == m.version(), "version differs");
    S3HA_FUZZ_CHECK(head->keep_alive() == beast->keep_alive(), "keep_alive differs");
    S3HA_FUZZ_CHECK(head->need_eof() == beast->need_eof(), "need_eof differs");
    S3HA_FUZZ_CHECK(head->chunked() == beast->chunked(), "chunked differs");
    S3HA_FUZZ_CHECK(head->upgrade() == beast->upgrade(), "upgrade differs");
    S3HA_FUZZ_CHECK(head->content_length() == beast->content_length(), "content_length differs");
    if (within) {
        S3HA_FUZZ_CHECK(head->reason() == m.reason(),
                        "reason differs: " + std::string(head->reason()) + " vs " +
                            std::string(m.reason()));
        std::vector<field> ours_fields;
        std::vector<field> their_fields;
        for (const auto& f : *head)
            ours_fields.push_back({f.name(), f.name_string(), f.value()});
        for (const auto& f : m)
            their_fields.push_back({f.name(), f.name_string(), f.value()});
        S3HA_FUZZ_CHECK(by_name(ours_fields) == by_name(their_fields),
                        "fields differ:\n" + list(ours_fields) + "vs Beast's\n" +
                            list(their_fields));
    }
    return 0;
}
