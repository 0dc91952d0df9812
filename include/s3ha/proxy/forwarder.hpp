// One request end to end: authenticate, address, choose a backend, connect, answer
// 100-continue, build and sign the upstream request, relay the body (plain or aws-chunked,
// verified chunk by chunk), relay the response, and answer every failure with an S3 XML error.
// Failover: handle() runs an attempt loop over the backends the pool selects; a failed attempt
// is retried on the next backend only while nothing is committed (may_retry, README.md
// "Failover guarantees"). Every attempt reports its outcome to the pool (passive health).
// A request that fails authentication never reaches a backend; a body that fails verification
// or ends early aborts the upstream connection so the backend never stores it.
// Thread affinity: the session's worker thread; one forwarder per downstream connection,
// handling its requests one after another.
#pragma once

#include "s3ha/core/any_stream.hpp"
#include "s3ha/core/log_scope.hpp"
#include "s3ha/proxy/proxy_context.hpp"
#include "s3ha/proxy/upstream_request.hpp"

#include <chrono>
#include <optional>
#include <span>
#include <string>

namespace s3ha::proxy {

class forwarder {
public:
    /// down/down_buffer: the client connection and its read buffer; buffer: the session's fixed
    /// relay buffer (both directions use it, one after the other).
    forwarder(proxy_context& ctx, any_stream& down, beast::flat_buffer& down_buffer,
              std::span<char> buffer, std::string connection_id, std::string client);

    /// Handles the request whose header `parser` has read (its body not yet). Returns true when
    /// the downstream connection may carry another request.
    awaitable<bool> handle(http::request_parser<http::buffer_body>& parser);

    /// Answers an error that came before any request could be handled (a malformed or too large
    /// header, too many connections) and closes: `Connection: close`.
    awaitable<void> reject(const error_code& ec, std::string_view resource, unsigned version);

private:
    struct request_state;
    /// How one attempt on one backend ended.
    struct attempt_result {
        error_code ec; ///< what to answer when no response was sent; success: a response went out
        /// The attempt failed before anything of it was committed in a way another backend may
        /// fix (connect/TLS error, connection lost or timeout before the response header, a
        /// retry status): the attempt loop tries the next backend if may_retry() allows it.
        bool retryable = false;
        std::string reason; ///< why it is retryable, e.g. "connect_failed", "status_503"
    };

    awaitable<attempt_result> attempt(request_state& st, const upstream::backend& b);
    /// The commit rule: another attempt may follow only while no response byte reached the
    /// client and the request body is absent, unread or whole in the replay buffer, within
    /// routing.retries.max_attempts and try_timeout.
    bool may_retry(const request_state& st) const;
    awaitable<error_code> send_body(request_state& st, upstream::connection& conn,
                                    class upstream_writer& writer, const upstream_request& up);
    awaitable<std::size_t> read_body_piece(request_state& st, error_code& ec);
    /// read_fallback_on_404: a GET/HEAD object answered 404. Reads the (small) answer; when it
    /// is NoSuchKey and another backend may be tried, keeps it in st and returns retryable,
    /// else relays it.
    awaitable<attempt_result> not_found(request_state& st,
                                        std::unique_ptr<upstream::connection>& conn,
                                        http::response_parser<http::buffer_body>& rp);
    /// Sends a response held in memory (a 404 kept for read fallback) to the client.
    awaitable<attempt_result> relay_held(request_state& st, http::response<http::string_body>& res);
    /// Streams the response whose header `rp` has read (an http::response_parser, or a
    /// response_head when streams_as_is) to the client.
    template <class Parser>
    awaitable<attempt_result> relay_back(request_state& st, upstream::connection& conn, Parser& rp,
                                         bool request_complete);
    /// Multipart pinning: translates the request's upload ids (the upstream query gets the
    /// backend's own), sets st.pinned_backend and st.rewrite_op; an error to answer otherwise.
    error_code route_upload_ids(request_state& st) const;
    /// The backend of st.pinned_backend when it may take the request (not drained, not known
    /// to be down); nullptr otherwise (the client gets 503, the request goes nowhere else).
    const upstream::backend* pinned_backend(const request_state& st) const;
    /// relay_back for a 2xx answer whose upload ids are rewritten (multipart_rewrite.hpp):
    /// buffered, bounded, sent with its own Content-Length.
    awaitable<attempt_result> relay_rewritten(request_state& st, upstream::connection& conn,
                                              http::response_parser<http::buffer_body>& rp,
                                              bool request_complete, const upstream::backend& b);
    awaitable<bool> respond_error(request_state& st, const error_code& ec);
    /// Writes ec's S3 error; detail: what it names (in describe_error's detail element).
    awaitable<error_code> write_error(const error_code& ec, std::string_view resource,
                                      std::string_view request_id, unsigned version, bool head,
                                      bool keep_alive, std::string_view detail = {});
    void access_log(const request_state& st) const;

    proxy_context& ctx_;
    any_stream& down_;
    beast::flat_buffer& down_buffer_;
    std::span<char> buffer_;
    std::string connection_id_;
    std::string client_; // the client's address:port, "-" if unknown (the access log's client=)
};

} // namespace s3ha::proxy
