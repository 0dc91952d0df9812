#include "s3ha/proxy/forwarder.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/core/read_deadline.hpp"
#include "s3ha/crypto/sha256.hpp"
#include "s3ha/http/read_header.hpp"
#include "s3ha/http/request_framing.hpp"
#include "s3ha/http/s3_error.hpp"
#include "s3ha/http/s3_request.hpp"
#include "s3ha/metrics/proxy_metrics.hpp"
#include "s3ha/proxy/aws_chunked_transform.hpp"
#include "s3ha/proxy/body_read_allowance.hpp"
#include "s3ha/proxy/buffered_response.hpp"
#include "s3ha/proxy/hop_by_hop.hpp"
#include "s3ha/proxy/length_body_reader.hpp"
#include "s3ha/proxy/multipart_rewrite.hpp"
#include "s3ha/proxy/plain_body_check.hpp"
#include "s3ha/proxy/relay.hpp"
#include "s3ha/proxy/replay_buffer.hpp"
#include "s3ha/sigv4/header_rule.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace s3ha::proxy {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The client went away (as opposed to sending something wrong or too slowly).
bool is_disconnect(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::error::operation_aborted ||
           ec == net::ssl::error::stream_truncated;
}

// A pooled connection the backend closed while idle shows one of these on first use.
bool is_stale_connection(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::ssl::error::stream_truncated;
}

// What to answer for an upstream failure. consumed: the request body was (partly) consumed and
// cannot be replayed, so only the client can retry: 503 SlowDown, which every SDK retries.
error_code upstream_failure(const error_code& ec, bool consumed) {
    if (consumed) return make_error_code(errc::slow_down);
    if (ec == beast::error::timeout) return make_error_code(errc::upstream_timeout);
    return make_error_code(errc::upstream_protocol_error);
}

// The passive health signal of a connection that failed before the response header.
upstream::failure_kind failure_of(const error_code& ec) {
    if (ec == beast::error::timeout || ec == errc::upstream_timeout) {
        return upstream::failure_kind::timeout;
    }
    if (ec == errc::upstream_connect_failed) return upstream::failure_kind::connect_failed;
    return upstream::failure_kind::reset;
}

bool contains(const std::vector<unsigned>& v, unsigned x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

unsigned status_of(const http::response_parser<http::buffer_body>& p) {
    return p.get().result_int();
}
unsigned status_of(const response_head& h) {
    return h.result_int();
}

bool is_informational(http::status s) {
    const auto code = static_cast<unsigned>(s);
    return code >= 100 && code < 200 && s != http::status::switching_protocols;
}

} // namespace

struct forwarder::request_state {
    request_state(http::request_parser<http::buffer_body>& p, log_scope l) : parser(p), log(l) {}

    http::request_parser<http::buffer_body>& parser;
    /// A Content-Length body is read straight into the relay buffer (not through the parser,
    /// whose is_done() then stays false): body_done() says when it has all been read.
    std::optional<length_body_reader> body;
    std::optional<std::uint64_t> body_length; // the Content-Length when `body` reads it
    log_scope log;
    std::string id;
    std::string method;
    std::string resource;
    unsigned version = 11;
    bool head = false;
    steady_clock::time_point start = steady_clock::now();
    std::optional<sigv4::verified_request> auth;
    s3_address address;
    bool expect_continue = false;
    bool continue_sent = false;
    std::uint64_t bytes_in = 0;  // downstream body bytes read
    std::uint64_t bytes_out = 0; // response body bytes written
    /// Time spent waiting for downstream body bytes (server.body_min_rate).
    steady_clock::duration body_wait{};
    unsigned status = 0;
    std::string backend = "-";
    s3_operation op = s3_operation::other;
    std::string_view operation;           // S3 operation name (classify_s3_operation)
    std::size_t backend_index = SIZE_MAX; // the backend of the latest attempt (metrics)
    upstream::request_selector* selector = nullptr;
    const upstream::backend* next = nullptr; // chosen ahead by a retry-status decision
    unsigned attempts = 0;
    std::string retries;  // the reasons of the failed-over attempts, comma-separated
    replay_buffer replay; // the body as received, while it may still be replayed
    /// read_fallback_on_404: the 404 NoSuchKey of an earlier attempt, relayed if no other
    /// backend has the object.
    std::optional<http::response<http::string_body>> held_404;
    bool response_started = false;
    bool response_complete = false; // the whole response went to the client
    bool downstream_broken = false; // the client went away or its connection is unusable
    bool must_close = false;        // the request's framing is unusable: close after the answer
    error_code body_error;          // why the downstream body could not be read (if it could not)
    std::string error_detail;       // what a refusal names (a header, a parameter), for its body
    /// Multipart (multipart_rewrite.hpp): the backend named by the request's upload id, and
    /// whether a 2xx answer carries upload ids to rewrite.
    std::optional<std::size_t> pinned_backend;
    std::optional<s3_operation> rewrite_op;

    bool body_done() const { return body ? body->done() : parser.is_done(); }
    /// The body can be sent again: nothing of it was read yet, or all of it that was read is
    /// in the replay buffer; and the client is still there.
    bool body_replayable() const {
        return !downstream_broken && !body_error && (bytes_in == 0 || replay.intact());
    }
    /// Reading the downstream body failed with ec (after bytes_in bytes): logs it, records it
    /// in body_error and returns it as what to answer (incomplete_body when the client went
    /// away, request_timeout when it was too slow, invalid_request otherwise).
    error_code body_read_failed(const error_code& ec) {
        error_code mapped;
        if (is_disconnect(ec)) {
            downstream_broken = true;
            log.info("client disconnected during the request body ({} bytes read): {}", bytes_in,
                     ec.message());
            mapped = make_error_code(errc::incomplete_body);
        } else if (ec == beast::error::timeout) {
            log.info("client too slow sending the body ({} bytes read)", bytes_in);
            mapped = make_error_code(errc::request_timeout);
        } else {
            log.info("malformed request body: {}", ec.message());
            mapped = make_error_code(errc::invalid_request);
        }
        body_error = mapped;
        return mapped;
    }
};

forwarder::forwarder(proxy_context& ctx, any_stream& down, beast::flat_buffer& down_buffer,
                     std::span<char> buffer, std::string connection_id, std::string client)
    : ctx_(ctx), down_(down), down_buffer_(down_buffer), buffer_(buffer),
      connection_id_(std::move(connection_id)), client_(std::move(client)) {
}

awaitable<bool> forwarder::handle(http::request_parser<http::buffer_body>& parser) {
    const auto& cfg = *ctx_.cfg;
    const auto& req = parser.get();
    request_state st{parser, log_scope(ctx_.log.get(), cfg.logging.format == log_format::json,
                                       connection_id_, {})};
    const metrics::proxy_metrics::in_flight counted(ctx_.metrics);
    st.id = ctx_.new_request_id();
    st.log.set_request(st.id);
    st.method = std::string(req.method_string());
    st.version = req.version();
    st.head = req.method() == http::verb::head;
    {
        std::string_view target = req.target();
        st.resource = std::string(target.substr(0, target.find('?')));
    }
    st.expect_continue = beast::iequals(req[http::field::expect], "100-continue");
    if (!parser.is_done() && !parser.chunked()) {
        if (auto cl = parser.content_length()) {
            st.body.emplace(down_, down_buffer_, *cl);
            st.body_length = *cl;
        }
    }

    auto fail = [&](const error_code& ec) { return respond_error(st, ec); };
    // A refusal that names what it refuses: logged, and kept for the error body. (Returned by
    // value: `co_await fail(refusal(...))` keeps it alive while the coroutine runs.)
    auto refusal = [&](errc e, std::string_view what) {
        st.log.info("request refused: {}: {}", make_error_code(e).message(), what);
        st.error_detail.assign(what);
        return make_error_code(e);
    };

    // How the body is framed must be unambiguous before anything else looks at the request.
    if (const auto framing = check_request_framing(req)) {
        st.must_close = framing.must_close;
        co_return co_await fail(refusal(framing.code, framing.name));
    }

    // A request that already went through this proxy would loop forever (RFC 9110 §7.6.3).
    if (via_contains(req, ctx_.via_pseudonym)) co_return co_await fail(errc::loop_detected);

    auto address =
        resolve_s3_address(req[http::field::host], req.target(), cfg.server.virtual_host_domains);
    if (!address) co_return co_await fail(address.error());
    st.address = std::move(*address);
    if (!st.address.path.empty()) st.resource = st.address.path;
    st.op = classify_s3_operation(st.method, st.address, req.count("x-amz-copy-source") > 0);
    st.operation = s3_operation_name(st.op);

    if (sigv4::has_signature(req)) {
        std::string detail;
        auto verified =
            ctx_.verifier->verify(req, std::chrono::system_clock::now(), ctx_.keys, &detail);
        if (!verified) {
            st.log.info("authentication failed: {}{}{}", verified.error().message(),
                        detail.empty() ? "" : ": ", detail);
            st.error_detail = std::move(detail);
            co_return co_await fail(verified.error());
        }
        st.auth = std::move(*verified);
    } else if (!cfg.server.allow_anonymous) {
        co_return co_await fail(errc::access_denied);
    } else if (const auto name = sigv4::find_refused_anonymous_header(req, req.method());
               !name.empty()) {
        co_return co_await fail(refusal(errc::header_not_signed, name));
    }

    if (auto ec = route_upload_ids(st)) co_return co_await fail(ec);

    if (!parser.is_done()) {
        st.replay = replay_buffer(ctx_.body_replay_budget, cfg.routing.retries.replay_buffer_size,
                                  st.body_length);
    }

    // The attempt loop: each attempt goes to a backend this request has not tried yet; a failed
    // one is followed by another only while may_retry() (the commit rule) allows it.
    upstream::pool& backends = *ctx_.backend_pool;
    upstream::request_selector selector(backends);
    st.selector = &selector;
    attempt_result r;
    while (true) {
        const upstream::backend* b = std::exchange(st.next, nullptr);
        if (b == nullptr) {
            b = st.pinned_backend ? pinned_backend(st) : selector.select(st.attempts);
        }
        if (b == nullptr) {
            // None at all: answer at once. After failed attempts: their error stands.
            if (st.attempts == 0) {
                r = {make_error_code(st.pinned_backend ? errc::upload_backend_down
                                                       : errc::no_healthy_backend),
                     false,
                     {}};
            }
            break;
        }
        if (st.attempts > 0) {
            st.log.info("backend {} failed ({}); trying backend {}", st.backend, r.reason,
                        b->name());
            if (!st.retries.empty()) st.retries += ',';
            st.retries += r.reason;
        }
        ++st.attempts;
        if (st.attempts > 1 && ctx_.metrics != nullptr)
            ctx_.metrics->failover(st.backend_index, b->index(), r.reason);
        st.backend = b->name();
        st.backend_index = b->index();
        {
            auto in_flight = backends.track(*b);
            r = co_await attempt(st, *b);
        }
        if (!r.retryable || !may_retry(st)) break;
    }
    if (r.ec && r.retryable && !st.body_replayable() && !st.response_started) {
        r.ec = make_error_code(errc::slow_down); // the body is gone: only the client can retry
    }
    if (r.ec && r.retryable && st.pinned_backend && !st.response_started) {
        r.ec = make_error_code(errc::upload_backend_down); // never another backend
    }
    if (r.ec && st.held_404 && !st.response_started && !st.downstream_broken) {
        r = co_await relay_held(st, *st.held_404); // no other backend had it
    }

    bool keep_alive = false;
    if (!r.ec) {
        keep_alive = !st.downstream_broken && req.keep_alive() && st.body_done() && !ctx_.stopping;
        // relay_back decided the downstream Connection header; it is authoritative.
        keep_alive = keep_alive && st.status != 0 && st.response_started;
    } else if (st.response_started || st.downstream_broken) {
        keep_alive = false; // cannot answer any more: just close
    } else {
        keep_alive = co_await fail(r.ec);
        co_return keep_alive;
    }
    access_log(st);
    co_return keep_alive;
}

bool forwarder::may_retry(const request_state& st) const {
    const auto& retries = ctx_.cfg->routing.retries;
    // A request naming a multipart upload has its one backend: never another.
    return !st.pinned_backend && !st.response_started && st.body_replayable() &&
           st.attempts < retries.max_attempts &&
           steady_clock::now() - st.start < retries.try_timeout;
}

awaitable<forwarder::attempt_result> forwarder::attempt(request_state& st,
                                                        const upstream::backend& b) {
    const auto& cfg = *ctx_.cfg;
    const auto& retries = cfg.routing.retries;
    auto& parser = st.parser;
    upstream::pool& backends = *ctx_.backend_pool;
    const auto attempt_start = steady_clock::now();

    std::optional<std::uint64_t> content_length;
    if (auto cl = parser.content_length()) content_length = *cl;
    downstream_request down{parser.get(), content_length, parser.chunked()};
    auto built =
        build_upstream_request(down, st.address, st.auth ? &*st.auth : nullptr, b,
                               ctx_.via_pseudonym, std::chrono::system_clock::now(), ctx_.keys);
    if (!built) co_return attempt_result{built.error(), false, {}};
    const upstream_request& up = *built;
    // A decoded empty body is complete as soon as its header is: hold the header back until
    // the aws-chunked body has been verified.
    const bool lazy_header = up.mode == body_mode::chunked_decode && up.content_length == 0;
    // An empty body signed with the hash of a non-empty one (a truncated body): not stored.
    if (up.mode == body_mode::none && st.auth && st.auth->payload == sigv4::payload_kind::sha256 &&
        st.auth->payload_hash != crypto::empty_sha256_hex) {
        co_return attempt_result{make_error_code(errc::content_sha256_mismatch), false, {}};
    }

    // The backend failed before its response header: a passive health failure (only on a
    // fresh connection: a pooled one may just have been closed while idle), and retryable.
    auto failed = [&](const error_code& cause, bool fresh) {
        const auto kind = failure_of(cause);
        if (fresh) backends.report_failure(b, kind);
        return attempt_result{upstream_failure(cause, !st.body_replayable()), true,
                              std::string(upstream::to_string(kind))};
    };

    for (int tries = 0; tries < 2; ++tries) {
        // A bodiless request is retried on a fresh connection if a pooled one turns out closed
        // (stale() below): no liveness probe (a system call per request) for it.
        auto acquired = co_await ctx_.pool.acquire(b, retries.connect_timeout, tries > 0,
                                                   up.mode != body_mode::none);
        if (!acquired) {
            st.log.warn("backend {}: connect failed: {}", b.name(), acquired.error().message());
            co_return failed(acquired.error(), true);
        }
        std::unique_ptr<upstream::connection> conn = std::move(*acquired);
        // A pooled connection that turns out closed is retried once on a new one (same
        // backend; not a failure of the backend, not an attempt) when the body allows it.
        auto stale = [&](const error_code& ec) {
            return conn->reused() && tries == 0 && is_stale_connection(ec) &&
                   st.body_replayable() && !st.response_started;
        };
        auto note_stale_retry = [&] {
            st.log.debug("pooled connection to {} was closed; retrying on a new one", b.name());
            if (ctx_.metrics != nullptr)
                ctx_.metrics->retry(metrics::retry_reason::stale_connection);
        };

        // 100-continue only once the backend is ready, so a failing backend can still be
        // replaced before the client sends its body (RFC 9110 §10.1.1).
        if (st.expect_continue && !st.continue_sent) {
            http::response<http::empty_body> cont{http::status::continue_, st.version};
            error_code ec;
            down_.expires_after(cfg.server.idle_timeout);
            co_await http::async_write(down_, cont, net::redirect_error(use_awaitable, ec));
            if (ec) {
                st.downstream_broken = true;
                conn->stream().close();
                st.log.info("client went away before sending its body: {}", ec.message());
                co_return attempt_result{ec, false, {}};
            }
            st.continue_sent = true;
        }

        // Serve this worker's other ready connections before the request goes out: once it
        // does, the backend wakes up and, on a busy machine, takes this thread's CPU. Doing the
        // ready work first means fewer such preemptions per request: +3.5 to +7.6 % req/s and
        // a lower p99 in 9 of 9 alternating pairs (bench/README.md).
        co_await net::post(conn->stream().get_executor(), use_awaitable);
        upstream_writer writer(conn->stream(), up.header, up.chunked(), retries.idle_timeout);
        error_code ec;
        if (up.mode == body_mode::none) {
            ec = co_await writer.finish();
        } else if (!lazy_header) {
            ec = co_await writer.write_header();
        }
        if (ec) {
            conn->stream().abort();
            if (stale(ec)) {
                note_stale_retry();
                continue;
            }
            st.log.warn("backend {}: sending the request failed: {}", b.name(), ec.message());
            co_return failed(ec, !conn->reused());
        }

        bool request_complete = true;
        if (up.mode != body_mode::none) {
            ec = co_await send_body(st, *conn, writer, up);
            if (ec) {
                // Abort: the backend must never see this body as complete.
                if (st.downstream_broken || st.body_error) {
                    conn->stream().abort();
                    co_return attempt_result{ec, false, {}};
                }
                request_complete = false; // the upstream write failed; maybe it answered early
            }
        }

        // The response header is read as views (response_head: no field copied); a response
        // that is held, rebuilt or chunked gets Beast's full parser, from the same bytes.
        std::optional<response_head> head;
        header_bytes head_bytes;
        auto& upstream = conn->stream();
        // Both parsers of the response header (below) take the same limits.
        auto set_limits = [&](http::basic_parser<false>& p) {
            p.body_limit(std::numeric_limits<std::uint64_t>::max());
            p.header_limit(static_cast<std::uint32_t>(std::min<std::uint64_t>(
                cfg.server.max_header_size * 2, std::numeric_limits<std::uint32_t>::max())));
            if (st.head) p.skip(true);
        };
        error_code rec;
        // Informational responses (e.g. the backend's own 100 Continue) are not relayed.
        do {
            set_limits(head.emplace());
            // After a failed body write, only wait briefly for an early answer (e.g. 403).
            upstream.expires_after(
                request_complete ? retries.response_header_timeout
                                 : std::min(retries.response_header_timeout, milliseconds(1000)));
            // The backend cannot have answered within the microseconds since the request went
            // out: serve this worker's other ready connections first instead of a receive that
            // would fail with EAGAIN (0.4 fewer receive calls per small GET, ~+5 % req/s in
            // bench/README.md's measurement).
            co_await net::post(upstream.get_executor(), use_awaitable);
            rec = co_await read_header(upstream, conn->buffer(), *head, &head_bytes);
        } while (!rec && is_informational(http::int_to_status(head->result_int())));
        if (rec) {
            conn->stream().abort();
            const error_code& cause = request_complete ? rec : ec;
            if (stale(cause)) {
                note_stale_retry();
                continue;
            }
            st.log.warn("backend {}: no response: {}", b.name(), cause.message());
            co_return failed(cause, !conn->reused());
        }

        if (ctx_.metrics != nullptr)
            ctx_.metrics->upstream_first_byte(b.index(), steady_clock::now() - attempt_start);
        // Passive health: any response header is a success unless its status says otherwise.
        const unsigned status = head->result_int();
        if (backends.is_failure_status(status)) {
            backends.report_failure(b, upstream::failure_kind::bad_status);
        } else {
            backends.report_success(b);
        }
        // Beast's full parser for the same header; the body, if any, is still in the buffer
        // and the socket. It parsed once already: failing now would be a bug.
        std::optional<http::response_parser<http::buffer_body>> rp;
        auto reparse = [&] {
            set_limits(rp.emplace());
            // The first parse bounded these bytes. Beast measures header_limit from the first
            // byte it has not consumed yet, so a header it took in pieces (read_header) may be
            // longer than the limit allows one taken whole.
            rp->header_limit(std::numeric_limits<std::uint32_t>::max());
            error_code pec;
            rp->put(net::buffer(head_bytes.bytes.data(), head_bytes.bytes.size()), pec);
            if (!pec && rp->is_header_done()) return true;
            st.log.error("backend {}: its response header did not parse twice: {}", b.name(),
                         pec.message());
            conn->stream().abort();
            return false;
        };
        const attempt_result reparse_failed{
            make_error_code(errc::upstream_protocol_error), false, {}};
        if (status == 404 && cfg.routing.read_fallback_on_404 &&
            (st.op == s3_operation::get_object || st.op == s3_operation::head_object)) {
            if (!reparse()) co_return reparse_failed;
            co_return co_await not_found(st, conn, *rp);
        }
        // A retry status goes to the next backend when there is one; the last attempt's
        // answer is relayed as it is.
        if (contains(retries.retry_statuses, status) && may_retry(st) &&
            (st.next = st.selector->select(st.attempts)) != nullptr) {
            conn->stream().abort();
            co_return attempt_result{make_error_code(errc::upstream_protocol_error), true,
                                     fmt::format("status_{}", status)};
        }

        if (!request_complete) {
            st.log.info("backend {} answered before the whole body was sent", b.name());
        }
        const bool rewrite = st.rewrite_op && !st.head && status >= 200 && status < 300;
        // Not `c ? co_await x : co_await y`: g++ 12 destroys the temporaries of such a
        // conditional twice (a double free of attempt_result::reason).
        attempt_result r;
        bool reusable = false;
        if (!rewrite && streams_as_is(*head) && !head_bytes.moved &&
            head->views_within(head_bytes.bytes)) {
            r = co_await relay_back(st, *conn, *head, request_complete);
            reusable = head->keep_alive() && !head->need_eof();
        } else {
            if (!reparse()) co_return reparse_failed;
            if (rewrite) {
                r = co_await relay_rewritten(st, *conn, *rp, request_complete, b);
            } else {
                r = co_await relay_back(st, *conn, *rp, request_complete);
            }
            reusable = rp->keep_alive() && !rp->need_eof();
        }
        if (ctx_.metrics != nullptr)
            ctx_.metrics->upstream_bytes(b.index(), writer.body_bytes(), st.bytes_out);
        if (!r.ec && request_complete && st.response_complete && reusable) {
            ctx_.pool.release(std::move(conn));
        } else {
            conn->stream().close();
        }
        co_return r;
    }
    co_return attempt_result{make_error_code(errc::upstream_connect_failed), true, "reset"};
}

awaitable<std::size_t> forwarder::read_body_piece(request_state& st, error_code& ec) {
    auto& parser = st.parser;
    const auto& server = ctx_.cfg->server;
    ec = {};
    if (st.body_done()) co_return 0;
    // Each wait is bounded by body_read_timeout and by what is left of the body's allowance
    // (server.body_min_rate), so a client dripping a byte per timeout is still cut off.
    const auto timeout = body_read_allowance(server.body_read_timeout, server.body_min_rate,
                                             st.bytes_in, st.body_wait);
    auto below_min_rate = [&] {
        st.log.info("client below server.body_min_rate ({} bytes/s): {} bytes in {} ms of waiting",
                    server.body_min_rate, st.bytes_in,
                    std::chrono::duration_cast<milliseconds>(st.body_wait).count());
    };
    if (timeout <= milliseconds::zero()) {
        below_min_rate();
        ec = st.body_read_failed(beast::error::timeout);
        co_return 0;
    }
    const auto wait_start = steady_clock::now();
    std::size_t n = 0;
    if (st.body) {
        n = co_await st.body->read(buffer_, timeout, ec);
    } else {
        parser.get().body().data = buffer_.data();
        parser.get().body().size = buffer_.size();
        const read_deadline deadline(down_, timeout);
        // One receive (or what is buffered), not a loop until the relay buffer is full: the
        // timeout bounds each wait, as for a Content-Length body, instead of 256 KiB of a slow
        // client's chunks. A piece may hold no body byte (only chunk framing): the caller reads on.
        co_await http::async_read_some(down_, down_buffer_, parser,
                                       net::redirect_error(use_awaitable, ec));
        if (ec == http::error::need_buffer) ec = {};
        ec = deadline.error_of(ec);
        n = buffer_.size() - parser.get().body().size;
    }
    st.body_wait += steady_clock::now() - wait_start;
    st.bytes_in += n;
    if (ec) {
        if (ec == beast::error::timeout && timeout < server.body_read_timeout) below_min_rate();
        ec = st.body_read_failed(ec);
        co_return 0;
    }
    co_return n;
}

awaitable<error_code> forwarder::send_body(request_state& st, upstream::connection& conn,
                                           upstream_writer& writer, const upstream_request& up) {
    (void)conn;
    error_code ec;
    // Every mode goes through a body_transform: it verifies what it is fed and releases only
    // what may go upstream, holding the last byte back until the whole body is verified.
    std::optional<plain_body_check> plain;
    std::optional<aws_chunked_transform> chunked;
    body_transform* transform = nullptr;
    if (up.mode == body_mode::plain) {
        std::optional<std::string> expected;
        if (st.auth && st.auth->payload == sigv4::payload_kind::sha256) {
            expected = st.auth->payload_hash;
        }
        transform = &plain.emplace(st.body_length, std::move(expected));
    } else {
        std::optional<sigv4::chunk_signing_context> client_ctx;
        if (st.auth && up.variant && sigv4::is_signed(*up.variant)) {
            client_ctx = sigv4::chunk_signing_context{st.auth->signing_key, st.auth->amz_date,
                                                      st.auth->scope, st.auth->signature};
        }
        transform = &chunked.emplace(up, std::move(client_ctx), ctx_.cfg->server.max_aws_chunk_size,
                                     &ctx_.chunk_buffer_budget);
    }
    auto flush = [&]() -> awaitable<error_code> {
        for (auto ready = transform->ready(); !ready.empty(); ready = transform->ready()) {
            if (up.content_length && writer.body_bytes() + ready.size() > *up.content_length) {
                co_return make_error_code(errc::invalid_request);
            }
            auto wec = co_await writer.write(ready);
            if (wec) co_return wec;
            transform->consume(ready.size());
        }
        co_return error_code{};
    };
    // A retry first replays what earlier attempts consumed (kept whole in st.replay, else there
    // would be no retry), through this attempt's fresh transform; then reads on downstream.
    const std::uint64_t replay_end = st.bytes_in;
    std::uint64_t replayed = 0;
    while (true) {
        if (replayed < replay_end) {
            const auto piece = st.replay.data().substr(
                replayed, std::min<std::uint64_t>(buffer_.size(), replay_end - replayed));
            if (piece.empty()) co_return make_error_code(errc::internal_error); // never: intact
            replayed += piece.size();
            ec = transform->feed(piece);
        } else if (st.body_done()) {
            ec = transform->finish();
        } else {
            const std::size_t n = co_await read_body_piece(st, ec);
            const std::string_view piece(buffer_.data(), n);
            st.replay.append(piece);
            if (!ec) ec = transform->feed(piece);
        }
        if (ec) {
            if (!st.body_error) {
                if (ec == errc::content_sha256_mismatch) {
                    st.log.info("request body does not match its signed x-amz-content-sha256");
                } else if (ec == errc::chunk_buffer_full) {
                    st.log.warn("server.max_aws_chunk_buffer_per_worker ({} bytes) is in use: "
                                "no room to hold an aws-chunked chunk until verified",
                                ctx_.chunk_buffer_budget.limit());
                } else {
                    st.log.info("request body rejected: {}", ec.message());
                }
                st.body_error = ec;
            }
            co_return ec;
        }
        if (auto fec = co_await flush()) {
            if (fec == errc::invalid_request) {
                st.log.warn("upstream body exceeds the Content-Length");
                st.body_error = fec;
            }
            co_return fec;
        }
        if (transform->done() && st.body_done()) break;
    }
    if (up.content_length && writer.body_bytes() != *up.content_length) {
        st.log.warn("upstream body length {} differs from the Content-Length {}",
                    writer.body_bytes(), *up.content_length);
        st.body_error = make_error_code(errc::invalid_request);
        co_return st.body_error;
    }
    co_return co_await writer.finish();
}

awaitable<forwarder::attempt_result>
forwarder::not_found(request_state& st, std::unique_ptr<upstream::connection>& conn,
                     http::response_parser<http::buffer_body>& rp) {
    const auto& cfg = *ctx_.cfg;
    // An S3 404 is a small XML document: buffered whole (bounded), never a large body.
    constexpr std::uint64_t k_max_404_body = std::uint64_t{64} * 1024;
    http::response_parser<http::string_body> sp(std::move(rp));
    sp.body_limit(k_max_404_body);
    error_code ec;
    if (!sp.is_done()) {
        conn->stream().expires_after(cfg.routing.retries.idle_timeout);
        co_await http::async_read(conn->stream(), conn->buffer(), sp,
                                  net::redirect_error(use_awaitable, ec));
    }
    if (ec) {
        conn->stream().abort();
        st.log.warn("backend {}: reading its 404 answer failed: {}", st.backend, ec.message());
        co_return attempt_result{upstream_failure(ec, false), true, "reset"};
    }
    if (sp.keep_alive() && !sp.need_eof()) {
        ctx_.pool.release(std::move(conn));
    } else {
        conn->stream().close();
    }
    auto& res = sp.get();
    // HEAD answers carry no body: a 404 to HEAD object is taken as NoSuchKey.
    const bool no_such_key =
        st.head || res.body().find("<Code>NoSuchKey</Code>") != std::string::npos;
    if (no_such_key && may_retry(st) && (st.next = st.selector->select(st.attempts)) != nullptr) {
        st.held_404 = std::move(res);
        co_return attempt_result{make_error_code(errc::upstream_protocol_error), true, "not_found"};
    }
    co_return co_await relay_held(st, res);
}

awaitable<forwarder::attempt_result> forwarder::relay_held(request_state& st,
                                                           http::response<http::string_body>& res) {
    const bool keep_alive = st.body_done() && st.parser.get().keep_alive() && !ctx_.stopping;
    rewrite_response_header(res, {st.id, st.version, keep_alive});
    if (!st.head) res.prepare_payload(); // HEAD keeps the backend's Content-Length
    st.status = res.result_int();
    st.response_started = true;
    if (!keep_alive) st.downstream_broken = true; // close after this response
    error_code ec;
    down_.expires_after(ctx_.cfg->server.idle_timeout);
    http::response_serializer<http::string_body> sr(res);
    if (st.head) sr.split(true);
    if (st.head) {
        co_await http::async_write_header(down_, sr, net::redirect_error(use_awaitable, ec));
    } else {
        co_await http::async_write(down_, sr, net::redirect_error(use_awaitable, ec));
    }
    if (ec) {
        st.downstream_broken = true;
        st.log.info("client disconnected during the response: {}", ec.message());
        co_return attempt_result{ec, false, {}};
    }
    st.bytes_out = st.head ? 0 : res.body().size();
    st.response_complete = true;
    co_return attempt_result{};
}

template <class Parser>
awaitable<forwarder::attempt_result> forwarder::relay_back(request_state& st,
                                                           upstream::connection& conn, Parser& rp,
                                                           bool request_complete) {
    const auto& cfg = *ctx_.cfg;
    downstream_framing framing{st.id, st.version};
    framing.keep_alive =
        request_complete && st.body_done() && st.parser.get().keep_alive() && !ctx_.stopping;
    if (!rp.is_done()) {
        const bool length_known = rp.content_length().has_value() && !rp.chunked();
        if (!length_known) {
            // Chunked, or delimited by the backend closing: chunk it for HTTP/1.1 clients,
            // close-delimit it for HTTP/1.0 ones (RFC 9112 §6.3).
            if (st.version >= 11) {
                framing.chunked = true;
            } else {
                framing.keep_alive = false;
            }
        }
    }
    st.status = status_of(rp);
    st.response_started = true;
    if (!framing.keep_alive) st.downstream_broken = true; // close after this response

    auto r = co_await relay_response(conn.stream(), conn.buffer(), rp, framing, down_, buffer_,
                                     cfg.routing.retries.idle_timeout, cfg.server.idle_timeout);
    st.bytes_out = r.body_bytes;
    st.response_complete = r.complete;
    if (r.downstream_error) {
        st.downstream_broken = true;
        st.log.info("client disconnected during the response: {}", r.downstream_error.message());
        co_return attempt_result{r.downstream_error, false, {}};
    }
    if (r.upstream_error) {
        st.downstream_broken = true;
        st.log.warn("backend {} failed during the response body: {}", st.backend,
                    r.upstream_error.message());
        co_return attempt_result{upstream_failure(r.upstream_error, true), false, {}};
    }
    co_return attempt_result{};
}

const upstream::backend* forwarder::pinned_backend(const request_state& st) const {
    // Decoded against the configuration; looked up in the pool by name (the pool's order is
    // the configuration's, but the name is what the id carries).
    const auto& configured = ctx_.cfg->backends;
    if (!st.pinned_backend || *st.pinned_backend >= configured.size()) return nullptr;
    const auto& name = configured[*st.pinned_backend].name;
    upstream::pool& backends = *ctx_.backend_pool;
    for (const auto& b : backends.backends()) {
        if (b->name() != name) continue;
        return accepts_pinned_request(backends.state(b->index())) ? b.get() : nullptr;
    }
    return nullptr;
}

error_code forwarder::route_upload_ids(request_state& st) const {
    const auto& cfg = *ctx_.cfg;
    auto routing = translate_upload_ids(st.address.query, cfg.backends);
    if (!routing) {
        st.log.info("upload id refused: {}", routing.error().message());
        return routing.error();
    }
    if (routing->query) st.address.query = std::move(*routing->query);
    st.pinned_backend = routing->pinned_backend;
    if (rewrites_upload_ids(st.op)) st.rewrite_op = st.op;
    return {};
}

awaitable<forwarder::attempt_result>
forwarder::relay_rewritten(request_state& st, upstream::connection& conn,
                           http::response_parser<http::buffer_body>& rp, bool request_complete,
                           const upstream::backend& b) {
    const auto& cfg = *ctx_.cfg;
    // Whatever fails from here on, the backend has answered: committed, never tried elsewhere
    // (a CreateMultipartUpload may have created the upload there).
    const auto coding = rp.get()[http::field::content_encoding];
    if (!coding.empty() && !beast::iequals(coding, "identity")) {
        st.log.warn("backend {}: upload ids cannot be rewritten in a {} body", b.name(), coding);
        co_return attempt_result{make_error_code(errc::upstream_protocol_error), false, {}};
    }
    std::string body;
    auto ec =
        co_await read_response_body(conn.stream(), conn.buffer(), rp, buffer_, k_max_rewritten_body,
                                    cfg.routing.retries.idle_timeout, body);
    if (ec) {
        st.log.warn("backend {}: reading the body to rewrite its upload ids: {}", b.name(),
                    ec.message());
        if (ec != errc::upload_ids_too_large) ec = upstream_failure(ec, true);
        co_return attempt_result{ec, false, {}};
    }
    auto rewritten = rewrite_upload_ids_xml(body, b.config(),
                                            st.rewrite_op == s3_operation::create_multipart_upload);
    if (!rewritten) {
        st.log.warn("backend {}: upload ids not rewritten: {}", b.name(),
                    rewritten.error().message());
        co_return attempt_result{rewritten.error(), false, {}};
    }

    http::response<http::string_body> res{rp.get().base()};
    const bool keep_alive =
        request_complete && st.body_done() && st.parser.get().keep_alive() && !ctx_.stopping;
    rewrite_response_header(res, {st.id, st.version, keep_alive});
    res.body() = std::move(*rewritten);
    res.prepare_payload(); // Content-Length of the rewritten body
    st.status = res.result_int();
    st.response_started = true;
    if (!keep_alive) st.downstream_broken = true;
    down_.expires_after(cfg.server.idle_timeout);
    co_await http::async_write(down_, res, net::redirect_error(use_awaitable, ec));
    if (ec) {
        st.downstream_broken = true;
        st.log.info("client disconnected during the response: {}", ec.message());
        co_return attempt_result{ec, false, {}};
    }
    st.bytes_out = res.body().size();
    st.response_complete = true;
    co_return attempt_result{};
}

awaitable<bool> forwarder::respond_error(request_state& st, const error_code& ec) {
    // The connection stays usable only if the request body has been read completely.
    const bool keep_alive = !st.downstream_broken && !st.must_close && st.body_done() &&
                            st.parser.get().keep_alive() && !ctx_.stopping;
    const auto info = describe_error(ec);
    st.status = static_cast<unsigned>(info.status);
    if (ctx_.metrics != nullptr) ctx_.metrics->rejected(ec);
    if (st.downstream_broken && (st.body_error == errc::incomplete_body || st.response_started)) {
        access_log(st); // the client is gone: nobody to answer
        co_return false;
    }
    auto wec = co_await write_error(ec, st.resource, st.id, st.version, st.head, keep_alive,
                                    st.error_detail);
    access_log(st);
    co_return keep_alive && !wec;
}

awaitable<error_code> forwarder::write_error(const error_code& ec, std::string_view resource,
                                             std::string_view request_id, unsigned version,
                                             bool head, bool keep_alive, std::string_view detail) {
    const auto info = describe_error(ec);
    http::response<http::string_body> res{info.status, version};
    res.set(http::field::content_type, "application/xml");
    res.set("x-amz-request-id", request_id);
    res.set("x-s3ha-request-id", request_id);
    if (info.status == http::status::service_unavailable) res.set(http::field::retry_after, "1");
    if (!head) {
        res.body() = render_s3_error_xml(info.code, info.message, resource, request_id,
                                         {info.detail_element, detail});
    }
    res.keep_alive(keep_alive);
    res.prepare_payload();
    error_code wec;
    down_.expires_after(ctx_.cfg->server.idle_timeout);
    co_await http::async_write(down_, res, net::redirect_error(use_awaitable, wec));
    co_return wec;
}

awaitable<void> forwarder::reject(const error_code& ec, std::string_view resource,
                                  unsigned version) {
    const auto id = ctx_.new_request_id();
    log_scope log(ctx_.log.get(), ctx_.cfg->logging.format == log_format::json, connection_id_, id);
    log.info("rejected: {}", describe_error(ec).code);
    if (ctx_.metrics != nullptr) {
        ctx_.metrics->rejected(ec);
        ctx_.metrics->request_finished({ctx_.metrics->no_backend(), s3_operation::other,
                                        static_cast<unsigned>(describe_error(ec).status)});
    }
    co_await write_error(ec, resource, id, version, false, false);
}

void forwarder::access_log(const request_state& st) const {
    // Every request passes here exactly once: its metrics too.
    const auto elapsed = steady_clock::now() - st.start;
    if (ctx_.metrics != nullptr) {
        ctx_.metrics->request_finished(
            {st.backend_index, st.op, st.status, elapsed, st.bytes_in, st.bytes_out});
    }
    if (!ctx_.access_log) return;
    const auto ms = std::chrono::duration_cast<milliseconds>(elapsed).count();
    log_scope log(ctx_.access_log.get(), ctx_.cfg->logging.format == log_format::json,
                  connection_id_, st.id);
    // Never the signature or the secret: the access key id only.
    log.info("{} {} {} in={} out={} ms={} backend={} client={} key={} op={} bucket={} attempts={} "
             "retry={}",
             st.method, st.resource, st.status, st.bytes_in, st.bytes_out, ms, st.backend, client_,
             st.auth ? std::string_view(st.auth->access_key) : "-",
             st.operation.empty() ? "-" : st.operation,
             st.address.bucket.empty() ? "-" : st.address.bucket, st.attempts,
             st.retries.empty() ? "-" : st.retries);
}

} // namespace s3ha::proxy
