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
class hop_by_hop_filter {
public:
    explicit hop_by_hop_filter(const boost::beast::http::fields& fields);
    bool drops(const boost::beast::http::fields::value_type& field) const;

private:
    std::vector<std::string> named_; // copies: the Connection header may be erased meanwhile
};

/// Removes the hop-by-hop headers (hop_by_hop_filter).
void strip_hop_by_hop(boost::beast::http::fields& fields);

/// True when one of the Via headers lists `pseudonym` as a received-by entry (a loop).
bool via_contains(const boost::beast::http::fields& fields, std::string_view pseudonym);

} // namespace s3ha::proxy
