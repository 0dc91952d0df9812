// Header rules of a forwarding proxy: hop-by-hop headers are not forwarded (RFC 9110 §7.6.1) and
// every hop adds itself to Via (RFC 9110 §7.6.3), which is also how s3ha recognises a loop.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace s3ha::proxy {

/// Which headers of one message are hop-by-hop: Connection, Proxy-Connection, Keep-Alive, TE,
/// Trailer, Transfer-Encoding, Upgrade, Proxy-Authorization, Proxy-Authenticate, and every header
/// named in a Connection header of that message.
/// Fields: a range of elements with name() (the field code), name_string() and value(), as
/// basic_fields and response_head (http/response_head.hpp) have.
class hop_by_hop_filter {
public:
    template <class Fields> explicit hop_by_hop_filter(const Fields& fields) {
        // A scan comparing field codes: cheaper than find()'s case-insensitive tree lookup for
        // the handful of fields a message has.
        for (const auto& f : fields) {
            if (f.name() == boost::beast::http::field::connection) add_connection_tokens(f.value());
        }
    }
    template <class Field> bool drops(const Field& field) const {
        return drops(field.name(), field.name_string());
    }
    bool drops(boost::beast::http::field code, std::string_view name) const;

private:
    void add_connection_tokens(std::string_view value);

    std::vector<std::string> named_; // copies: the Connection header may be erased meanwhile
};

/// Removes the hop-by-hop headers (hop_by_hop_filter).
void strip_hop_by_hop(boost::beast::http::fields& fields);

/// True when one of the Via headers lists `pseudonym` as a received-by entry (a loop).
bool via_contains(const boost::beast::http::fields& fields, std::string_view pseudonym);

} // namespace s3ha::proxy
