#include "s3ha/proxy/replay_buffer.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>

using s3ha::proxy::replay_budget;
using s3ha::proxy::replay_buffer;

TEST_CASE("replay_budget reserves up to its limit and releases", "[unit][replay_buffer]") {
    replay_budget b(100);
    CHECK(b.try_reserve(60));
    CHECK_FALSE(b.try_reserve(41));
    CHECK(b.held() == 60);
    CHECK(b.try_reserve(40));
    CHECK(b.held() == 100);
    CHECK_FALSE(b.try_reserve(1));
    b.release(100);
    CHECK(b.held() == 0);
    CHECK_FALSE(b.try_reserve(UINT64_MAX)); // no overflow
    CHECK(b.held() == 0);
}

TEST_CASE("a known-length body that fits is kept whole, byte for byte", "[unit][replay_buffer]") {
    replay_budget budget(1000);
    std::string body = "12345\r\nchunk;sig=x\r\n\0bytes";
    {
        replay_buffer r(budget, 100, body.size());
        CHECK(budget.held() == body.size()); // reserved up front
        r.append(std::string_view(body).substr(0, 7));
        CHECK(r.intact());
        r.append(std::string_view(body).substr(7));
        CHECK(r.intact());
        CHECK(r.data() == body);
        CHECK(r.appended() == body.size());
    }
    CHECK(budget.held() == 0); // released with the request
}

TEST_CASE("a known-length body over the per-request limit is never copied",
          "[unit][replay_buffer]") {
    replay_budget budget(1000);
    replay_buffer r(budget, 10, 11);
    CHECK(budget.held() == 0);
    CHECK(r.intact()); // nothing consumed yet: still replayable
    r.append("x");
    CHECK_FALSE(r.intact());
    CHECK(r.data().empty());
    CHECK(r.appended() == 1);
}

TEST_CASE("a known-length body that does not fit the worker budget is never copied",
          "[unit][replay_buffer]") {
    replay_budget budget(100);
    replay_buffer a(budget, 80, 80);
    replay_buffer b(budget, 80, 30); // 80 + 30 > 100
    CHECK(budget.held() == 80);
    b.append("abc");
    CHECK_FALSE(b.intact());
    a.append(std::string(80, 'a'));
    CHECK(a.intact());
}

TEST_CASE("an unknown-length body is kept until it exceeds the limit, then dropped",
          "[unit][replay_buffer]") {
    replay_budget budget(1000);
    replay_buffer r(budget, 10, std::nullopt);
    CHECK(budget.held() == 0);
    r.append("12345");
    CHECK(budget.held() == 5);
    r.append("67890");
    CHECK(r.intact());
    CHECK(r.data() == "1234567890");
    r.append("1");
    CHECK_FALSE(r.intact());
    CHECK(r.data().empty());
    CHECK(budget.held() == 0); // given back at once, not at the end of the request
    r.append("more");
    CHECK_FALSE(r.intact()); // gave up for good
    CHECK(r.appended() == 15);
}

TEST_CASE("an unknown-length body gives up when the worker budget runs out",
          "[unit][replay_buffer]") {
    replay_budget budget(8);
    replay_buffer other(budget, 100, 5);
    replay_buffer r(budget, 100, std::nullopt);
    r.append("123");
    CHECK(r.intact());
    r.append("4");
    CHECK_FALSE(r.intact());
    CHECK(budget.held() == 5);
}

TEST_CASE("replay_buffer_size 0 never keeps a body", "[unit][replay_buffer]") {
    replay_budget budget(0);
    replay_buffer r(budget, 0, 3);
    CHECK(r.intact());
    r.append("abc");
    CHECK_FALSE(r.intact());
    replay_buffer none;
    CHECK(none.intact());
    none.append("a");
    CHECK_FALSE(none.intact());
}

TEST_CASE("moving a replay_buffer moves its reservation", "[unit][replay_buffer]") {
    replay_budget budget(100);
    {
        replay_buffer a(budget, 50, 40);
        a.append("xyz");
        replay_buffer b(std::move(a));
        CHECK(budget.held() == 40);
        CHECK(b.data() == "xyz");
        replay_buffer c;
        c = std::move(b);
        CHECK(budget.held() == 40);
        CHECK(c.intact());
    }
    CHECK(budget.held() == 0);
}
