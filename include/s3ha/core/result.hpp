// result<T>: the value of a pure fallible function, or the error_code that says why it failed.
// (Boost 1.74 predates boost::system::result.)
#pragma once

#include <boost/system/error_code.hpp>
#include <cassert>
#include <utility>
#include <variant>

namespace s3ha {

template <class T> class result {
public:
    result(T value) : v_(std::move(value)) {}                     // NOLINT: implicit by design
    result(boost::system::error_code ec) : v_(ec) { assert(ec); } // NOLINT: implicit by design
    template <class E, class = std::enable_if_t<boost::system::is_error_code_enum<E>::value>>
    result(E e) : result(boost::system::error_code(make_error_code(e))) {} // NOLINT

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// The error; a default (success) error_code when has_value().
    boost::system::error_code error() const noexcept {
        return has_value() ? boost::system::error_code{} : std::get<1>(v_);
    }

private:
    std::variant<T, boost::system::error_code> v_;
};

} // namespace s3ha
