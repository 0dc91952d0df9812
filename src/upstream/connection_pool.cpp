#include "s3ha/upstream/connection_pool.hpp"

#include "s3ha/metrics/proxy_metrics.hpp"
#include "s3ha/upstream/connect.hpp"

#include <sys/socket.h>

namespace s3ha::upstream {

namespace {

// A pooled socket the backend has closed (EOF) or that holds unexpected bytes is useless;
// MSG_PEEK|MSG_DONTWAIT tells without consuming anything.
bool looks_alive(connection& c) {
    auto& sock = c.stream().tcp().socket();
    char byte = 0;
    const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

} // namespace

connection::~connection() {
    if (metrics_ != nullptr) metrics_->upstream_connection_closed(target_->index(), idle_);
}

connection_pool::connection_pool(executor ex, upstream_pool_config cfg, std::size_t backend_count)
    : ex_(std::move(ex)), cfg_(cfg), idle_(backend_count) {
}

awaitable<result<std::unique_ptr<connection>>>
connection_pool::acquire(const backend& b, std::chrono::milliseconds connect_timeout,
                         bool fresh_only, bool probe) {
    auto& idle = idle_.at(b.index());
    const auto now = std::chrono::steady_clock::now();
    while (!fresh_only && !idle.empty()) {
        auto c = std::move(idle.back()); // most recently used first: the warmest connection
        idle.pop_back();
        if (now - c->idle_since_ < cfg_.idle_timeout && c->stream().tcp().socket().is_open() &&
            (!probe || looks_alive(*c))) {
            c->reused_ = true;
            c->idle_ = false;
            if (metrics_ != nullptr) metrics_->upstream_connection_reused(b.index());
            co_return std::move(c);
        }
        c->stream().close();
    }

    auto stream = co_await connect(ex_, b, connect_timeout);
    if (!stream) co_return stream.error();
    auto c = std::make_unique<connection>(std::move(*stream), b);
    c->generation_ = generation_;
    if (metrics_ != nullptr) {
        c->metrics_ = metrics_;
        metrics_->upstream_connection_opened(b.index());
    }
    co_return c;
}

void connection_pool::release(std::unique_ptr<connection> c) {
    if (c->generation_ != generation_) { // opened before a reload, for the old backend list
        c->stream().close();
        return;
    }
    auto& idle = idle_.at(c->target().index());
    if (idle.size() >= cfg_.max_idle_per_backend || c->buffer().size() != 0) {
        c->stream().close();
        return;
    }
    c->stream().expires_never();
    c->idle_since_ = std::chrono::steady_clock::now();
    c->idle_ = true;
    if (metrics_ != nullptr) metrics_->upstream_connection_parked(c->target().index());
    idle.push_back(std::move(c));
}

std::size_t connection_pool::idle_count(const backend& b) const noexcept {
    return b.index() < idle_.size() ? idle_[b.index()].size() : 0;
}

void connection_pool::clear() noexcept {
    for (auto& list : idle_) {
        for (auto& c : list)
            c->stream().close();
        list.clear();
    }
}

void connection_pool::reset(upstream_pool_config cfg, std::size_t backend_count,
                            metrics::proxy_metrics* m) noexcept {
    clear();
    idle_.clear();
    idle_.resize(backend_count);
    cfg_ = cfg;
    metrics_ = m;
    ++generation_;
}

} // namespace s3ha::upstream
