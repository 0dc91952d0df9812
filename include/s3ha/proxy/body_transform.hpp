// What stands between the downstream request body and the upstream one: every body the
// forwarder sends upstream goes through a body_transform, which verifies what it is fed and
// releases (ready()) only what may go upstream. The last byte of the upstream body is held back
// until the whole downstream body has been verified (done()): until then the backend can never
// see a complete body, so aborting the upstream connection on a failure always leaves it with a
// truncated request it rejects. Implementations: aws_chunked_transform (aws-chunked framing and
// signatures) and plain_body_check (a plain body, its length and its signed SHA-256).
// Thread affinity: one per request.
#pragma once

#include "s3ha/core/net.hpp"

#include <cstddef>
#include <string_view>

namespace s3ha::proxy {

class body_transform {
public:
    virtual ~body_transform() = default;

    /// Consumes downstream body bytes. On error nothing more is produced (sticky). ready() may
    /// refer to `in` itself: drain ready() before the next feed() and keep `in` valid until then.
    virtual error_code feed(std::string_view in) = 0;
    /// The downstream body ended; verifies the end (length, signatures, checksums, hashes).
    virtual error_code finish() = 0;
    /// True once the whole body is verified (everything produced may go).
    virtual bool done() const noexcept = 0;
    /// Output that may be sent upstream now (empty after an error).
    virtual std::string_view ready() const noexcept = 0;
    /// Marks n bytes of ready() as sent.
    virtual void consume(std::size_t n) noexcept = 0;

protected:
    body_transform() = default;
    body_transform(const body_transform&) = default;
    body_transform& operator=(const body_transform&) = default;

    /// The hold-back rule every transform applies to its pending output: while the body is not
    /// verified, its last byte stays back.
    static std::string_view held_back(std::string_view pending, bool verified) noexcept {
        if (!verified && !pending.empty()) pending.remove_suffix(1);
        return pending;
    }
};

} // namespace s3ha::proxy
