// Chooses the backend of each forwarding attempt. The forwarder asks once per attempt, so a
// later policy (failover, round robin, health-aware) only implements this interface.
// Thread affinity: first_backend is one per worker; the pool's request_selector (pool.hpp) is one
// per request, since it must remember which backends that request already tried.
#pragma once

#include "s3ha/upstream/backend.hpp"

#include <memory>
#include <vector>

namespace s3ha::upstream {

class backend_selector {
public:
    virtual ~backend_selector() = default;
    /// The backend for attempt number `attempt` (0 = first try); nullptr when none is usable
    /// (the forwarder answers no_healthy_backend).
    virtual const backend* select(unsigned attempt) = 0;
};

/// Always the first configured backend (until the pool and its policies land).
class first_backend final : public backend_selector {
public:
    explicit first_backend(std::vector<std::shared_ptr<const backend>> backends);
    const backend* select(unsigned attempt) override;

private:
    std::vector<std::shared_ptr<const backend>> backends_;
};

} // namespace s3ha::upstream
