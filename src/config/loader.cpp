// The configuration loader: YAML -> config structs, collecting every problem with its position.
// The shape: one map_reader per YAML map. Each read of a key registers it as known, so when a
// section is done, finish() can report the keys nobody asked for (typos) with a suggestion.
#include "s3ha/config/loader.hpp"
#include "s3ha/config/value_parsers.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

namespace s3ha {

namespace {

using config_values::parsed;

struct position {
    std::size_t line = 1;
    std::size_t column = 1;
};

position pos_of(const YAML::Mark& m) {
    if (m.line < 0 || m.column < 0) {
        return {};
    }
    return {static_cast<std::size_t>(m.line) + 1, static_cast<std::size_t>(m.column) + 1};
}

std::string at_text(position p) {
    return "line " + std::to_string(p.line) + ", column " + std::to_string(p.column);
}

std::string quote(std::string_view s) {
    return "`" + std::string(s) + "`";
}

std::string join_quoted(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i != 0) {
            out += i + 1 == items.size() ? " or " : ", ";
        }
        out += quote(items[i]);
    }
    return out;
}

std::string format_size(std::uint64_t v) {
    static constexpr std::pair<std::uint64_t, const char*> units[] = {
        {1ULL << 30, "GiB"}, {1ULL << 20, "MiB"}, {1ULL << 10, "KiB"}};
    for (auto [mult, name] : units) {
        if (v != 0 && v % mult == 0) {
            return std::to_string(v / mult) + name;
        }
    }
    return std::to_string(v);
}

std::string format_duration(milliseconds d) {
    auto ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0) {
        return std::to_string(ms / 3'600'000) + "h";
    }
    if (ms != 0 && ms % 60'000 == 0) {
        return std::to_string(ms / 60'000) + "m";
    }
    if (ms != 0 && ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    return std::to_string(ms) + "ms";
}

std::string describe(const YAML::Node& n) {
    switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return quote(n.Scalar());
    default: return "nothing";
    }
}

bool is_bool_like(const std::string& s) {
    static const char* const words[] = {"y",   "Y",   "yes",  "Yes",  "YES",   "n",    "N",
                                        "no",  "No",  "NO",   "on",   "On",    "ON",   "off",
                                        "Off", "OFF", "True", "TRUE", "False", "FALSE"};
    return std::any_of(std::begin(words), std::end(words), [&](const char* w) { return s == w; });
}

bool readable_file(const std::string& path, std::string& why) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = std::strerror(errno);
        return false;
    }
    return true;
}

/// State shared by all readers of one load.
struct context {
    std::vector<config_problem> problems;
    env_lookup env;

    void add(position p, std::string message, std::string hint = {}) {
        problems.push_back({p.line, p.column, std::move(message), std::move(hint)});
    }
};

struct field {
    std::string key;
    position key_pos;
    YAML::Node value;

    bool is_null() const { return !value.IsDefined() || value.IsNull(); }
    /// Where a problem with the value is reported: the value, or the key when there is none.
    position value_pos() const {
        if (is_null() || value.Mark().line < 0) {
            return key_pos;
        }
        return pos_of(value.Mark());
    }
};

class map_reader {
public:
    /// A reader over nothing (section absent or null): every key reads as absent.
    map_reader(context& ctx, std::string path, position where)
        : ctx_(ctx), path_(std::move(path)), where_(where) {}

    map_reader(context& ctx, std::string path, const YAML::Node& map)
        : ctx_(ctx), path_(std::move(path)), where_(pos_of(map.Mark())) {
        for (auto it = map.begin(); it != map.end(); ++it) {
            field f{it->first.IsScalar() ? it->first.Scalar() : std::string{},
                    pos_of(it->first.Mark()), it->second};
            if (!it->first.IsScalar()) {
                ctx_.add(f.key_pos, "keys in " + where_name() + " must be plain names",
                         "write `name: value`");
                continue;
            }
            auto first = std::find_if(fields_.begin(), fields_.end(),
                                      [&](const field& g) { return g.key == f.key; });
            if (first != fields_.end()) {
                ctx_.add(f.key_pos,
                         "duplicate key " + quote(key_path(f.key)) + " (first given at " +
                             at_text(first->key_pos) + ")",
                         "remove one of them");
                continue;
            }
            fields_.push_back(std::move(f));
        }
    }

    position where() const { return where_; }
    const std::string& path() const { return path_; }
    std::string key_path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }

    /// The field of key (registering key as known), or nullptr when absent.
    const field* find(std::string_view key) {
        if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
            known_.emplace_back(key);
        }
        for (const auto& f : fields_) {
            if (f.key == key) {
                return &f;
            }
        }
        return nullptr;
    }

    bool has(std::string_view key) { return find(key) != nullptr; }

    /// Reports a required key that is absent, at the position of this map.
    bool require(std::string_view key, std::string hint = {}) {
        if (has(key)) {
            return true;
        }
        ctx_.add(where_, "missing required key " + quote(key_path(key)), std::move(hint));
        return false;
    }

    /// Reports every key that no getter asked for.
    void finish() {
        for (const auto& f : fields_) {
            if (std::find(known_.begin(), known_.end(), f.key) != known_.end()) {
                continue;
            }
            ctx_.add(f.key_pos,
                     "unknown key " + quote(f.key) +
                         (path_.empty() ? " at the top level" : " in " + quote(path_)),
                     suggestion(f.key));
        }
    }

    // --- typed getters: leave out unchanged when the key is absent or the value is wrong ---

    /// The scalar text of key; reports a non-scalar. std::nullopt when absent or wrong.
    std::optional<std::string> scalar(std::string_view key, std::string_view expected,
                                      const field** where = nullptr) {
        const field* f = find(key);
        if (where != nullptr) {
            *where = f;
        }
        if (f == nullptr) {
            return std::nullopt;
        }
        if (!f->value.IsScalar()) {
            ctx_.add(f->value_pos(),
                     quote(key_path(key)) + " must be " + std::string(expected) + ", got " +
                         describe(f->value),
                     f->is_null() ? "give a value or remove the key" : "");
            return std::nullopt;
        }
        return f->value.Scalar();
    }

    void get_string(std::string_view key, std::string& out, bool non_empty = false) {
        const field* f = nullptr;
        auto s = scalar(key, "a string", &f);
        if (!s) {
            return;
        }
        if (non_empty && s->empty()) {
            ctx_.add(f->value_pos(), quote(key_path(key)) + " must not be empty");
            return;
        }
        out = *s;
    }

    void get_bool(std::string_view key, bool& out) {
        const field* f = nullptr;
        auto s = scalar(key, "true or false", &f);
        if (!s) {
            return;
        }
        if (*s == "true") {
            out = true;
        } else if (*s == "false") {
            out = false;
        } else {
            ctx_.add(f->value_pos(),
                     quote(key_path(key)) + " must be true or false, got " + quote(*s),
                     is_bool_like(*s) ? "write exactly `true` or `false`" : "");
        }
    }

    template <class Int>
    void get_uint(std::string_view key, Int& out, std::uint64_t lo, std::uint64_t hi) {
        const field* f = nullptr;
        auto s = scalar(key, "an integer", &f);
        if (!s) {
            return;
        }
        if (auto v = parse_integer(*f, *s, lo, hi)) {
            out = static_cast<Int>(*v);
        }
    }

    void get_duration(std::string_view key, milliseconds& out, milliseconds min) {
        const field* f = nullptr;
        auto s = scalar(key, "a duration", &f);
        if (!s) {
            return;
        }
        auto d = config_values::parse_duration(*s);
        if (!d.value) {
            ctx_.add(f->value_pos(), quote(key_path(key)) + ": " + d.message, d.hint);
            return;
        }
        if (*d.value < min) {
            ctx_.add(f->value_pos(),
                     quote(key_path(key)) + " must be at least " + format_duration(min) + ", got " +
                         quote(*s),
                     min == milliseconds(1) ? "a duration of zero is not allowed here" : "");
            return;
        }
        out = *d.value;
    }

    void get_size(std::string_view key, std::uint64_t& out, std::uint64_t lo, std::uint64_t hi) {
        const field* f = nullptr;
        auto s = scalar(key, "a size", &f);
        if (!s) {
            return;
        }
        auto v = config_values::parse_size(*s);
        if (!v.value) {
            ctx_.add(f->value_pos(), quote(key_path(key)) + ": " + v.message, v.hint);
            return;
        }
        if (*v.value < lo || *v.value > hi) {
            ctx_.add(f->value_pos(), quote(key_path(key)) + " must be between " + format_size(lo) +
                                         " and " + format_size(hi) + ", got " + quote(*s));
            return;
        }
        out = *v.value;
    }

    void get_listen(std::string_view key, listen_address& out) {
        const field* f = nullptr;
        auto s = scalar(key, "a listen address (host:port)", &f);
        if (!s) {
            return;
        }
        auto a = config_values::parse_listen_address(*s);
        if (!a.value) {
            ctx_.add(f->value_pos(), quote(key_path(key)) + ": " + a.message, a.hint);
            return;
        }
        out = *a.value;
    }

    template <class E>
    void get_enum(std::string_view key, E& out,
                  std::initializer_list<std::pair<std::string_view, E>> values) {
        std::vector<std::string> names;
        for (const auto& [name, v] : values) {
            names.emplace_back(name);
        }
        const field* f = nullptr;
        auto s = scalar(key, "one of " + join_quoted(names), &f);
        if (!s) {
            return;
        }
        for (const auto& [name, v] : values) {
            if (*s == name) {
                out = v;
                return;
            }
        }
        ctx_.add(f->value_pos(), quote(key_path(key)) + " has an invalid value " + quote(*s),
                 "allowed values: " + join_quoted(names));
    }

    /// A list of integers (HTTP statuses), each in [lo, hi].
    void get_status_list(std::string_view key, std::vector<unsigned>& out, std::uint64_t lo,
                         std::uint64_t hi, bool allow_empty) {
        const field* f = find(key);
        if (f == nullptr) {
            return;
        }
        if (!f->value.IsSequence()) {
            ctx_.add(f->value_pos(),
                     quote(key_path(key)) + " must be a list of status codes, got " +
                         describe(f->value),
                     "e.g. [502, 503, 504]");
            return;
        }
        std::vector<unsigned> result;
        bool good = true;
        for (const auto& item : f->value) {
            field elem{std::string(key), f->value_pos(), item};
            if (!item.IsScalar()) {
                ctx_.add(elem.value_pos(), "each entry of " + quote(key_path(key)) +
                                               " must be a status code, got " + describe(item));
                good = false;
                continue;
            }
            auto v = parse_integer(elem, item.Scalar(), lo, hi);
            if (!v) {
                good = false;
                continue;
            }
            result.push_back(static_cast<unsigned>(*v));
        }
        if (good && result.empty() && !allow_empty) {
            ctx_.add(f->value_pos(), quote(key_path(key)) + " must not be empty");
            return;
        }
        if (good) {
            out = std::move(result);
        }
    }

    /// A list of strings with their positions; std::nullopt when absent or not a list.
    std::optional<std::vector<std::pair<std::string, position>>>
    get_string_list(std::string_view key) {
        const field* f = find(key);
        if (f == nullptr || f->is_null()) {
            return std::nullopt;
        }
        if (!f->value.IsSequence()) {
            ctx_.add(f->value_pos(),
                     quote(key_path(key)) + " must be a list, got " + describe(f->value),
                     "write a YAML list, e.g. [a, b] or one `- item` per line");
            return std::nullopt;
        }
        std::vector<std::pair<std::string, position>> out;
        for (const auto& item : f->value) {
            field elem{std::string(key), f->value_pos(), item};
            if (!item.IsScalar()) {
                ctx_.add(elem.value_pos(), "each entry of " + quote(key_path(key)) +
                                               " must be a string, got " + describe(item));
                continue;
            }
            out.emplace_back(item.Scalar(), elem.value_pos());
        }
        return out;
    }

    /// A list of maps (credentials, backends); nullptr when absent; reports a non-list.
    const field* get_list(std::string_view key) {
        const field* f = find(key);
        if (f == nullptr) {
            return nullptr;
        }
        if (!f->is_null() && !f->value.IsSequence()) {
            ctx_.add(f->value_pos(),
                     quote(key_path(key)) + " must be a list, got " + describe(f->value),
                     "start each entry with `- ` on its own line");
            return nullptr;
        }
        return f;
    }

    /// A reader over the nested map at key; an empty reader when absent, null or not a map.
    map_reader sub(std::string_view key) {
        const field* f = find(key);
        if (f == nullptr) {
            return map_reader(ctx_, key_path(key), where_);
        }
        if (f->value.IsMap()) {
            return map_reader(ctx_, key_path(key), f->value);
        }
        if (!f->is_null()) {
            ctx_.add(f->value_pos(),
                     quote(key_path(key)) + " must be a map, got " + describe(f->value),
                     "indent its keys below `" + std::string(key) + ":`");
        }
        return map_reader(ctx_, key_path(key), f->key_pos);
    }

    /// A secret given as exactly one of `name`, `name_env` or `name_file`; resolved here.
    /// Never echoes the value. std::nullopt when absent or wrong (reported).
    std::optional<std::string> get_secret(std::string_view name, bool required) {
        const std::string inline_key(name);
        const std::string env_key = inline_key + "_env";
        const std::string file_key = inline_key + "_file";
        const std::string forms = join_quoted({inline_key, env_key, file_key});
        std::vector<const field*> given;
        for (const auto& k : {inline_key, env_key, file_key}) {
            if (const field* f = find(k)) {
                given.push_back(f);
            }
        }
        if (given.empty()) {
            if (required) {
                ctx_.add(where_, "missing required secret " + quote(key_path(name)),
                         "give one of " + forms);
            }
            return std::nullopt;
        }
        if (given.size() > 1) {
            std::sort(given.begin(), given.end(), [](const field* a, const field* b) {
                return std::pair(a->key_pos.line, a->key_pos.column) <
                       std::pair(b->key_pos.line, b->key_pos.column);
            });
            for (std::size_t i = 1; i < given.size(); ++i) {
                ctx_.add(given[i]->key_pos,
                         quote(key_path(given[i]->key)) + " conflicts with " +
                             quote(key_path(given[0]->key)) + " (" + at_text(given[0]->key_pos) +
                             ")",
                         "give exactly one of " + forms);
            }
            return std::nullopt;
        }
        const field& f = *given.front();
        if (!f.value.IsScalar()) {
            // describe() would print a scalar, but a non-scalar has no secret text to leak.
            ctx_.add(f.value_pos(),
                     quote(key_path(f.key)) + " must be a string, got " +
                         (f.is_null() ? std::string("nothing") : describe(f.value)),
                     "give a value or remove the key");
            return std::nullopt;
        }
        const std::string& text = f.value.Scalar();
        std::string secret;
        if (f.key == inline_key) {
            secret = text;
        } else if (f.key == env_key) {
            auto v = text.empty() ? std::nullopt : ctx_.env(text);
            if (!v) {
                ctx_.add(f.value_pos(),
                         "environment variable " + quote(text) + " (for " + quote(key_path(f.key)) +
                             ") is not set",
                         "export it before starting s3ha, or use " + quote(file_key));
                return std::nullopt;
            }
            secret = std::move(*v);
        } else {
            if (text.empty()) {
                ctx_.add(f.value_pos(), quote(key_path(f.key)) + " is an empty path",
                         "give the path of the file holding the secret");
                return std::nullopt;
            }
            std::ifstream in(text, std::ios::binary);
            if (!in) {
                const int err = errno;
                ctx_.add(f.value_pos(),
                         "cannot read secret file " + quote(text) + " (for " +
                             quote(key_path(f.key)) + "): " + std::strerror(err),
                         "check the path and its permissions; relative paths start at the "
                         "working directory");
                return std::nullopt;
            }
            std::ostringstream buf;
            buf << in.rdbuf();
            secret = buf.str();
            // Docker and Kubernetes secret files usually end in a newline that is not part of it.
            while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
                secret.pop_back();
            }
        }
        if (secret.empty()) {
            ctx_.add(f.value_pos(), "secret " + quote(key_path(name)) + " is empty",
                     f.key == inline_key ? "give a value" : "the source gives an empty value");
            return std::nullopt;
        }
        return secret;
    }

private:
    std::string where_name() const { return path_.empty() ? "the top level" : quote(path_); }

    std::optional<std::uint64_t> parse_integer(const field& f, const std::string& s,
                                               std::uint64_t lo, std::uint64_t hi) {
        long long v = 0;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec == std::errc::invalid_argument || ptr != s.data() + s.size()) {
            std::string hint;
            if (s == "true" || s == "false" || is_bool_like(s)) {
                hint = "this is a boolean, not a number";
            } else if (!s.empty() && (s.back() == 's' || s.back() == 'B' || s.back() == 'm')) {
                hint = "this key takes a plain number";
            }
            ctx_.add(f.value_pos(), quote(key_path(f.key)) + " must be an integer, got " + quote(s),
                     hint);
            return std::nullopt;
        }
        if (ec == std::errc::result_out_of_range || v < 0 || static_cast<std::uint64_t>(v) < lo ||
            static_cast<std::uint64_t>(v) > hi) {
            ctx_.add(f.value_pos(), quote(key_path(f.key)) + " must be between " +
                                        std::to_string(lo) + " and " + std::to_string(hi) +
                                        ", got " + s);
            return std::nullopt;
        }
        return static_cast<std::uint64_t>(v);
    }

    std::string suggestion(const std::string& key) const {
        const std::string* best = nullptr;
        std::size_t best_d = 0;
        for (const auto& k : known_) {
            std::size_t d = config_values::edit_distance(key, k);
            if (best == nullptr || d < best_d) {
                best = &k;
                best_d = d;
            }
        }
        if (best != nullptr && best_d <= std::max<std::size_t>(1, key.size() / 3)) {
            return "did you mean " + quote(*best) + "?";
        }
        for (const auto& k : known_) {
            if (key.size() >= 4 && k.rfind(key, 0) == 0) {
                return "did you mean " + quote(k) + "?";
            }
        }
        return "valid keys here: " + join_quoted(known_);
    }

    context& ctx_;
    std::string path_;
    position where_;
    std::vector<field> fields_;
    std::vector<std::string> known_;
};

constexpr milliseconds k_nonzero{1};
constexpr milliseconds k_zero{0};

void check_tls_file(context& ctx, map_reader& r, std::string_view key, const std::string& path) {
    std::string why;
    if (!path.empty() && !readable_file(path, why)) {
        const field* f = r.find(key);
        ctx.add(f != nullptr ? f->value_pos() : r.where(),
                "cannot read " + quote(r.key_path(key)) + " " + quote(path) + ": " + why,
                "check the path and its permissions");
    }
}

bool valid_host_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-';
    });
}

void parse_server(context& ctx, map_reader r, server_config& s) {
    r.get_listen("listen", s.listen);
    r.get_uint("workers", s.workers, 0, 1024);
    {
        const field* f = nullptr;
        if (auto v = r.scalar("region", "a string", &f)) {
            if (v->empty()) {
                ctx.add(f->value_pos(), quote(r.key_path("region")) + " must not be empty",
                        "the region clients sign for, e.g. us-east-1");
            } else {
                s.region = *v;
            }
        }
    }
    if (auto list = r.get_string_list("virtual_host_domains")) {
        s.virtual_host_domains.clear();
        for (auto& [name, pos] : *list) {
            std::string lower = name;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (!valid_host_name(lower) || lower.front() == '.' || lower.back() == '.') {
                ctx.add(pos,
                        "invalid domain " + quote(name) + " in " +
                            quote(r.key_path("virtual_host_domains")),
                        "a bare host name without scheme or port, e.g. s3.example.com");
                continue;
            }
            s.virtual_host_domains.push_back(std::move(lower));
        }
    }
    r.get_uint("max_connections", s.max_connections, 1, 1'000'000);
    r.get_size("max_header_size", s.max_header_size, 1ULL << 10, 1ULL << 20);
    r.get_duration("header_read_timeout", s.header_read_timeout, k_nonzero);
    r.get_duration("idle_timeout", s.idle_timeout, k_nonzero);
    r.get_duration("body_read_timeout", s.body_read_timeout, k_nonzero);
    r.get_size("body_min_rate", s.body_min_rate, 0, 1ULL << 30); // bytes per second; 0 = off
    r.get_size("max_aws_chunk_size", s.max_aws_chunk_size, 8ULL << 10, 1ULL << 30);
    if (const field* f = r.find("max_aws_chunk_buffer_per_worker"); f == nullptr) {
        // Not given: a configuration that raised max_aws_chunk_size alone stays valid.
        s.max_aws_chunk_buffer_per_worker =
            std::max(s.max_aws_chunk_buffer_per_worker, s.max_aws_chunk_size);
    } else {
        std::uint64_t budget = 0; // stays 0 when the value is refused (the range starts at 8KiB)
        r.get_size("max_aws_chunk_buffer_per_worker", budget, 8ULL << 10, 64ULL << 30);
        if (budget != 0 && budget < s.max_aws_chunk_size) {
            ctx.add(f->value_pos(),
                    quote(r.key_path("max_aws_chunk_buffer_per_worker")) + " (" +
                        format_size(budget) + ") must be at least " +
                        quote(r.key_path("max_aws_chunk_size")) + " (" +
                        format_size(s.max_aws_chunk_size) + ")",
                    "a signed chunk is held whole until verified: the buffer must fit one");
        } else if (budget != 0) {
            s.max_aws_chunk_buffer_per_worker = budget;
        }
    }
    r.get_bool("allow_anonymous", s.allow_anonymous);
    {
        map_reader t = r.sub("tls");
        t.get_string("cert_file", s.tls.cert_file);
        t.get_string("key_file", s.tls.key_file);
        if (s.tls.cert_file.empty() != s.tls.key_file.empty()) {
            const bool has_cert = !s.tls.cert_file.empty();
            const field* f = t.find(has_cert ? "cert_file" : "key_file");
            ctx.add(f != nullptr ? f->key_pos : t.where(),
                    quote(t.key_path(has_cert ? "cert_file" : "key_file")) + " is set but " +
                        quote(t.key_path(has_cert ? "key_file" : "cert_file")) + " is not",
                    "give both cert_file and key_file for TLS, or neither for plain HTTP");
        }
        check_tls_file(ctx, t, "cert_file", s.tls.cert_file);
        check_tls_file(ctx, t, "key_file", s.tls.key_file);
        t.finish();
    }
    r.finish();
}

void parse_admin(map_reader r, admin_config& a) {
    r.get_listen("listen", a.listen);
    if (auto token = r.get_secret("token", false)) {
        a.token = std::move(*token);
    }
    r.finish();
}

// The required, non-empty list `key` of maps (credentials, backends): reports a missing key, an
// empty list and non-map items, and calls fn(item_reader) for each map item.
struct map_list_hints {
    const char* missing; // hint when the key is absent
    const char* noun;    // "credential", "backend"
    const char* add;     // hint when the list is empty
    const char* item;    // hint when an item is not a map
};
template <class Fn>
void for_each_map_item(context& ctx, map_reader& root, std::string_view key,
                       const map_list_hints& hints, Fn&& fn) {
    if (!root.require(key, hints.missing)) {
        return;
    }
    const field* list = root.get_list(key);
    if (list == nullptr) {
        return;
    }
    if (list->is_null() || list->value.size() == 0) {
        ctx.add(list->value_pos(),
                quote(key) + " must contain at least one " + std::string(hints.noun), hints.add);
        return;
    }
    std::size_t index = 0;
    for (const auto& item : list->value) {
        const std::string path = std::string(key) + "[" + std::to_string(index++) + "]";
        if (!item.IsMap()) {
            ctx.add(pos_of(item.Mark()), quote(path) + " must be a map, got " + describe(item),
                    hints.item);
            continue;
        }
        map_reader r(ctx, path, item);
        fn(r);
    }
}

void parse_credentials(context& ctx, map_reader& root, std::vector<credential_config>& out) {
    std::map<std::string, position> seen;
    for_each_map_item(
        ctx, root, "credentials",
        {"add a list with at least one access_key and secret_key", "credential",
         "add `- access_key: ...` with a secret_key",
         "each credential has access_key and secret_key"},
        [&](map_reader& r) {
            credential_config c;
            r.require("access_key");
            const field* f = nullptr;
            if (auto key = r.scalar("access_key", "a string", &f)) {
                if (key->empty()) {
                    ctx.add(f->value_pos(), quote(r.key_path("access_key")) + " must not be empty");
                } else if (auto [it, inserted] = seen.emplace(*key, f->value_pos()); !inserted) {
                    ctx.add(f->value_pos(),
                            "duplicate access key " + quote(*key) + " (first given at " +
                                at_text(it->second) + ")",
                            "access keys must be unique");
                }
                c.access_key = *key;
            }
            if (auto secret = r.get_secret("secret_key", true)) {
                c.secret_key = std::move(*secret);
            }
            r.finish();
            out.push_back(std::move(c));
        });
}

void parse_health_check(context& ctx, map_reader r, health_check_config& h) {
    r.get_enum("type", h.type, {{"http", health_check_type::http}, {"s3", health_check_type::s3}});
    const bool is_http = h.type == health_check_type::http;
    {
        const field* f = nullptr;
        if (auto p = r.scalar("path", "a string", &f)) {
            if (p->empty() || p->front() != '/') {
                ctx.add(f->value_pos(), quote(r.key_path("path")) + " must start with `/`",
                        "e.g. /minio/health/cluster");
            } else {
                h.path = *p;
            }
        }
    }
    {
        const field* f = nullptr;
        if (auto m = r.scalar("method", "`GET` or `HEAD`", &f)) {
            std::string upper = *m;
            std::transform(upper.begin(), upper.end(), upper.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            if (upper != "GET" && upper != "HEAD") {
                ctx.add(f->value_pos(),
                        quote(r.key_path("method")) + " has an invalid value " + quote(*m),
                        "allowed values: `GET` or `HEAD`");
            } else {
                h.method = upper;
            }
        }
    }
    r.get_status_list("expected_statuses", h.expected_statuses, 100, 599, false);
    {
        const field* f = nullptr;
        if (auto b = r.scalar("bucket", "a string", &f)) {
            const bool good =
                b->empty() ||
                (b->size() >= 3 && b->size() <= 63 && std::all_of(b->begin(), b->end(), [](char c) {
                     return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                            c == '-';
                 }));
            if (!good) {
                ctx.add(f->value_pos(), "invalid bucket name " + quote(*b),
                        "3 to 63 characters of a-z, 0-9, `.` and `-`");
            } else {
                h.bucket = *b;
            }
        }
    }
    // Keys of the other check type are almost certainly a mistake: say so instead of ignoring.
    for (const char* key : {"path", "method", "expected_statuses"}) {
        if (!is_http && r.has(key)) {
            ctx.add(r.find(key)->key_pos, quote(r.key_path(key)) + " applies only to type `http`",
                    "remove it, or set type: http");
        }
    }
    if (is_http && r.has("bucket")) {
        ctx.add(r.find("bucket")->key_pos,
                quote(r.key_path("bucket")) + " applies only to type `s3`",
                "remove it, or set type: s3");
    }
    r.get_duration("interval", h.interval, k_nonzero);
    r.get_duration("jitter", h.jitter, k_zero);
    r.get_duration("timeout", h.timeout, k_nonzero);
    r.get_uint("rise", h.rise, 1, 100);
    r.get_uint("fall", h.fall, 1, 100);
    r.get_duration("max_backoff", h.max_backoff, k_nonzero);

    // Cross checks point at the key that was written (preferring the dependent one).
    auto pos_for = [&](const char* primary, const char* other) {
        if (const field* f = r.find(primary)) {
            return f->value_pos();
        }
        if (const field* f = r.find(other)) {
            return f->value_pos();
        }
        return r.where();
    };
    const std::string interval = format_duration(h.interval);
    if (h.timeout >= h.interval) {
        ctx.add(pos_for("timeout", "interval"),
                quote(r.key_path("timeout")) + " (" + format_duration(h.timeout) +
                    ") must be less than `interval` (" + interval + ")",
                "shorten timeout or lengthen interval");
    }
    if (h.jitter >= h.interval) {
        ctx.add(pos_for("jitter", "interval"),
                quote(r.key_path("jitter")) + " (" + format_duration(h.jitter) +
                    ") must be less than `interval` (" + interval + ")",
                "shorten jitter or lengthen interval");
    }
    if (h.max_backoff < h.interval) {
        ctx.add(pos_for("max_backoff", "interval"),
                quote(r.key_path("max_backoff")) + " (" + format_duration(h.max_backoff) +
                    ") must be at least `interval` (" + interval + ")",
                "the back-off for a down backend starts at interval and grows up to max_backoff");
    }
    r.finish();
}

bool valid_backend_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
    });
}

void parse_backends(context& ctx, map_reader& root, std::vector<backend_config>& out) {
    std::map<std::string, position> seen;
    for_each_map_item(
        ctx, root, "backends",
        {"add a list with at least one backend (name, endpoint, keys)", "backend",
         "add `- name: ...` with endpoint, access_key and secret_key",
         "each backend has name, endpoint, access_key and secret_key"},
        [&](map_reader& r) {
            backend_config b;
            r.require("name", "a unique name such as minio-a (used in metrics)");
            const field* f = nullptr;
            if (auto name = r.scalar("name", "a string", &f)) {
                if (!valid_backend_name(*name)) {
                    ctx.add(f->value_pos(), "invalid backend name " + quote(*name),
                            "use only letters, digits, `_`, `.` and `-`");
                } else if (auto [it, inserted] = seen.emplace(*name, f->value_pos()); !inserted) {
                    ctx.add(f->value_pos(),
                            "duplicate backend name " + quote(*name) + " (first given at " +
                                at_text(it->second) + ")",
                            "backend names must be unique");
                }
                b.name = *name;
            }
            r.require("endpoint", "e.g. endpoint: http://127.0.0.1:9000");
            if (auto ep = r.scalar("endpoint", "a URL", &f)) {
                auto parsed_ep = config_values::parse_endpoint(*ep);
                if (!parsed_ep.value) {
                    ctx.add(f->value_pos(),
                            quote(r.key_path("endpoint")) + ": " + parsed_ep.message,
                            parsed_ep.hint);
                } else {
                    b.endpoint = *parsed_ep.value;
                }
            }
            if (auto region = r.scalar("region", "a string", &f)) {
                if (region->empty()) {
                    ctx.add(f->value_pos(), quote(r.key_path("region")) + " must not be empty",
                            "the region the backend expects, e.g. us-east-1");
                } else {
                    b.region = *region;
                }
            }
            r.require("access_key");
            r.get_string("access_key", b.access_key, true);
            if (auto secret = r.get_secret("secret_key", true)) {
                b.secret_key = std::move(*secret);
            }
            r.get_uint("priority", b.priority, 1, 1000);
            r.get_uint("weight", b.weight, 1, 1000);
            r.get_enum(
                "aws_chunked", b.aws_chunked,
                {{"forward", aws_chunked_mode::forward}, {"decode", aws_chunked_mode::decode}});
            {
                map_reader t = r.sub("tls");
                t.get_string("ca_file", b.tls.ca_file);
                t.get_bool("verify", b.tls.verify);
                const field* sn = nullptr;
                if (auto name = t.scalar("server_name", "a string", &sn)) {
                    if (!name->empty() && !valid_host_name(*name)) {
                        ctx.add(sn->value_pos(), "invalid server name " + quote(*name),
                                "a host name, e.g. minio.example.com");
                    } else {
                        b.tls.server_name = *name;
                    }
                }
                check_tls_file(ctx, t, "ca_file", b.tls.ca_file);
                t.finish();
            }
            parse_health_check(ctx, r.sub("health_check"), b.health_check);
            r.finish();
            out.push_back(std::move(b));
        });
}

void parse_routing(map_reader r, routing_config& c) {
    r.get_enum("policy", c.policy,
               {{"failover", routing_policy::failover},
                {"round_robin", routing_policy::round_robin},
                {"random", routing_policy::random},
                {"least_requests", routing_policy::least_requests},
                {"weighted", routing_policy::weighted}});
    r.get_enum("failback", c.failback,
               {{"auto", failback_mode::automatic}, {"manual", failback_mode::manual}});
    r.get_duration("failback_stable_period", c.failback_stable_period, k_zero);
    r.get_bool("try_unhealthy_when_all_down", c.try_unhealthy_when_all_down);
    r.get_bool("read_fallback_on_404", c.read_fallback_on_404);
    r.get_status_list("passive_failure_statuses", c.passive_failure_statuses, 500, 599, true);
    {
        map_reader t = r.sub("retries");
        retry_config& x = c.retries;
        t.get_uint("max_attempts", x.max_attempts, 1, 10);
        t.get_duration("connect_timeout", x.connect_timeout, k_nonzero);
        t.get_duration("response_header_timeout", x.response_header_timeout, k_nonzero);
        t.get_duration("idle_timeout", x.idle_timeout, k_nonzero);
        t.get_duration("try_timeout", x.try_timeout, k_nonzero);
        t.get_size("replay_buffer_size", x.replay_buffer_size, 0, 1ULL << 30);
        t.get_status_list("retry_statuses", x.retry_statuses, 400, 599, true);
        t.finish();
    }
    {
        map_reader t = r.sub("upstream_pool");
        t.get_uint("max_idle_per_backend", c.upstream_pool.max_idle_per_backend, 0, 10'000);
        t.get_duration("idle_timeout", c.upstream_pool.idle_timeout, k_nonzero);
        t.finish();
    }
    r.finish();
}

void parse_logging(map_reader r, logging_config& l) {
    r.get_enum("level", l.level,
               {{"trace", log_level::trace},
                {"debug", log_level::debug},
                {"info", log_level::info},
                {"warn", log_level::warn},
                {"error", log_level::error},
                {"critical", log_level::critical},
                {"off", log_level::off}});
    r.get_enum("format", l.format, {{"text", log_format::text}, {"json", log_format::json}});
    r.get_bool("access_log", l.access_log);
    r.finish();
}

void parse_shutdown(map_reader r, shutdown_config& s) {
    r.get_duration("drain_timeout", s.drain_timeout, k_zero);
    r.finish();
}

std::optional<std::string> getenv_lookup(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) {
        return std::nullopt;
    }
    return std::string(v);
}

} // namespace

config_load_result load_config_string(const std::string& yaml, const env_lookup& env) {
    context ctx;
    ctx.env = env ? env : env_lookup(getenv_lookup);
    config_load_result result;

    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        ctx.add(pos_of(e.mark), "YAML syntax error: " + e.msg,
                "check the indentation, the `key: value` colons and the quotes around here");
        result.problems = std::move(ctx.problems);
        return result;
    }

    auto cfg = std::make_shared<config>();
    if (!root.IsDefined() || root.IsNull() || root.IsMap()) {
        map_reader r = root.IsMap() ? map_reader(ctx, "", root) : map_reader(ctx, "", position{});
        parse_server(ctx, r.sub("server"), cfg->server);
        parse_admin(r.sub("admin"), cfg->admin);
        parse_credentials(ctx, r, cfg->credentials);
        parse_backends(ctx, r, cfg->backends);
        parse_routing(r.sub("routing"), cfg->routing);
        parse_logging(r.sub("logging"), cfg->logging);
        parse_shutdown(r.sub("shutdown"), cfg->shutdown);
        r.finish();
    } else {
        ctx.add(pos_of(root.Mark()),
                "the configuration must be a map of sections, got " + describe(root),
                "start with `server:`, `credentials:` and `backends:`");
    }

    std::stable_sort(ctx.problems.begin(), ctx.problems.end(),
                     [](const config_problem& a, const config_problem& b) {
                         return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                     });
    result.problems = std::move(ctx.problems);
    if (result.problems.empty()) {
        result.cfg = std::move(cfg);
    }
    return result;
}

config_load_result load_config_file(const std::string& path, const env_lookup& env) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        config_load_result result;
        result.problems.push_back(
            {0, 0, "cannot read the configuration file: " + std::string(std::strerror(err)),
             "check the path given to --config"});
        return result;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    return load_config_string(buf.str(), env);
}

std::string format_problem(std::string_view file, const config_problem& p) {
    std::string out(file);
    if (p.line != 0) {
        out += ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
    }
    out += ": error: " + p.message;
    if (!p.hint.empty()) {
        out += " (hint: " + p.hint + ")";
    }
    return out;
}

} // namespace s3ha
