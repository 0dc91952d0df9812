#include "s3ha/metrics/histogram_set.hpp"
#include "s3ha/metrics/sharded.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <thread>
#include <vector>

using namespace s3ha::metrics;

namespace {

// Runs fn on `threads` threads at once, thread i with shard index i (as workers set id + 1; the
// last ones past the shard count, so they fall back to shard 0 with the other threads).
template <class Fn> void on_threads(std::size_t threads, Fn fn) {
    std::vector<std::thread> ts;
    for (std::size_t i = 0; i < threads; ++i) {
        ts.emplace_back([i, &fn] {
            set_thread_shard(i);
            fn();
        });
    }
    for (auto& t : ts)
        t.join();
}

} // namespace

TEST_CASE("sharded: concurrent adds from many threads sum exactly", "[unit][metrics]") {
    constexpr std::size_t k_threads = 6;
    constexpr std::int64_t k_adds = 100000;
    sharded<std::int64_t> c(10, 4); // threads 4 and 5 share shard 0 with thread 0
    on_threads(k_threads, [&] {
        for (std::int64_t i = 0; i < k_adds; ++i) {
            c.add(0, 1);
            c.add(9, 2);
            c.add(5, i % 2 == 0 ? 1 : -1); // a gauge going up and down
        }
    });
    CHECK(c.size() == 10);
    CHECK(c.sum(0) == std::int64_t{k_threads} * k_adds);
    CHECK(c.sum(9) == 2 * std::int64_t{k_threads} * k_adds);
    CHECK(c.sum(5) == 0);
    CHECK(c.sum(1) == 0);
}

TEST_CASE("sharded: a thread without a shard index writes shard 0", "[unit][metrics]") {
    sharded<double> c(3, 2);
    std::thread([&] { c.add(2, 0.5); }).join(); // a fresh thread: index 0
    std::thread([&] {
        set_thread_shard(7); // past the count
        c.add(2, 0.25);
    }).join();
    CHECK(c.sum(2) == Approx(0.75));
}

TEST_CASE("histogram_set: observations from sharded threads add up", "[unit][metrics]") {
    histogram_set h({1, 10}, 2, 3);
    on_threads(3, [&] {
        for (int i = 0; i < 1000; ++i) {
            h.observe(1, 0.5); // le 1
            h.observe(1, 5);   // le 10
        }
    });
    const auto r = h.read(1);
    CHECK(r.count == 6000);
    CHECK(r.cumulative == std::vector<std::uint64_t>{3000, 6000, 6000});
    CHECK(r.sum == Approx(3 * 1000 * 5.5));
    CHECK(h.read(0).count == 0);
}
