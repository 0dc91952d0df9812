#include "s3ha/http/header_writer.hpp"

#include <algorithm>

namespace s3ha {

namespace {

void append_version(std::string& out, unsigned version) {
    out.append("HTTP/");
    out.push_back(static_cast<char>('0' + version / 10));
    out.push_back('.');
    out.push_back(static_cast<char>('0' + version % 10));
}

void append_fields(std::string& out, const http::fields& fields) {
    for (const auto& f : fields)
        append_field(out, f.name_string(), f.value());
    out.append("\r\n");
}

} // namespace

void append_field(std::string& out, std::string_view name, std::string_view value) {
    // One size change and plain copies instead of four appends, each checking the capacity.
    const std::size_t at = out.size();
    out.resize(at + name.size() + value.size() + 4);
    char* p = out.data() + at;
    p = std::copy(name.begin(), name.end(), p);
    *p++ = ':';
    *p++ = ' ';
    p = std::copy(value.begin(), value.end(), p);
    *p++ = '\r';
    *p = '\n';
}

void append_status_line(std::string& out, unsigned code, std::string_view reason,
                        unsigned version) {
    append_version(out, version);
    out.push_back(' ');
    out.push_back(static_cast<char>('0' + code / 100 % 10));
    out.push_back(static_cast<char>('0' + code / 10 % 10));
    out.push_back(static_cast<char>('0' + code % 10));
    out.push_back(' ');
    out.append(reason.data(), reason.size());
    out.append("\r\n");
}

void append_status_line(std::string& out, const http::response_header<>& h, unsigned version) {
    // h.reason(): the stored one, else Beast's standard reason phrase.
    append_status_line(out, h.result_int(), h.reason(), version);
}

void append_header(std::string& out, const http::response_header<>& h) {
    append_status_line(out, h, h.version());
    append_fields(out, h);
}

} // namespace s3ha
