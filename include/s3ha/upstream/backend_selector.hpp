// Chooses the backend of each forwarding attempt. The forwarder asks once per attempt, so a
// policy only implements this interface.
// Thread affinity: the pool's request_selector (pool.hpp) is one per request, since it must
// remember which backends that request already tried.
#pragma once

#include "s3ha/upstream/backend.hpp"

namespace s3ha::upstream {

class backend_selector {
public:
    virtual ~backend_selector() = default;
    /// The backend for attempt number `attempt` (0 = first try); nullptr when none is usable
    /// (the forwarder answers no_healthy_backend).
    virtual const backend* select(unsigned attempt) = 0;
};

} // namespace s3ha::upstream
