// One PostgreSQL result (PGresult), owned. Values are read as text (libpq's
// text format) and converted here, so a column read with the wrong type
// fails with the column's name instead of reading garbage.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct pg_result;  // libpq's PGresult
using PGresult = pg_result;

namespace reconciler::store::postgres {

class result {
public:
    result() = default;
    explicit result(PGresult* r) noexcept;

    int rows() const noexcept;
    bool is_null(int row, int col) const noexcept;
    std::string_view text(int row, int col) const noexcept;  // "" when NULL
    std::int64_t int64(int row, int col) const;              // throws store_error naming the column
    std::optional<std::int64_t> opt_int64(int row, int col) const;
    std::optional<std::string> opt_text(int row, int col) const;
    bool boolean(int row, int col) const;                    // 't' / 'f'
    std::int64_t affected() const noexcept;                  // rows an INSERT/UPDATE/DELETE touched

private:
    struct free_result {
        void operator()(PGresult* r) const noexcept;
    };
    std::unique_ptr<PGresult, free_result> r_;
};

}  // namespace reconciler::store::postgres
