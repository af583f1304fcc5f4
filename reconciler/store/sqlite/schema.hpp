// SQLite: the reconciler's schema (migrations compiled in from sql/migrations).
#pragma once

#include "store/schema.hpp"
#include "store/sqlite/connection.hpp"

#include <string>

namespace reconciler::store::sqlite {

class sqlite_schema : public virtual schema {
public:
    explicit sqlite_schema(connection& c) noexcept : c_(c) {}

    int schema_version() override;
    int latest_schema_version() const override;
    int migrate() override;
    void check_schema() override;

private:
    void check_app_tables();
    std::string ahead_message(int current) const;

    connection& c_;
};

}  // namespace reconciler::store::sqlite
