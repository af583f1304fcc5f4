// The SQL under sql/, compiled in (see embed_sql.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace reconciler::store {

struct migration {
    int version;            // 1-based, dense: file N of the ordered list
    std::string_view name;  // file name without extension
    std::string_view sql;
};

// The reconciler's own schema migrations, in order.
const std::vector<migration>& migrations();

// The app's tables (sql/app/app_schema.sql), for the demo and the tests.
std::string_view app_schema_sql();

}  // namespace reconciler::store
