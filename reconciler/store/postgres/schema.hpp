// PostgreSQL: the reconciler's schema (migrations compiled in from
// sql/postgres/migrations), created and upgraded in one transaction under
// an advisory lock, so two migrates at once apply each migration once.
#pragma once

#include "store/postgres/pg_session.hpp"
#include "store/schema.hpp"

#include <string>

namespace reconciler::store::postgres {

class postgres_schema : public virtual schema {
public:
    explicit postgres_schema(session& s) noexcept : s_(s) {}

    int schema_version() override;
    int latest_schema_version() const override;
    int migrate() override;
    void check_schema() override;

private:
    void check_app_tables();
    std::string where() const;
    std::string ahead_message(int current) const;

    session& s_;
};

}  // namespace reconciler::store::postgres
