// Port: the reconciler's own schema in the app's database (`reconciler
// migrate`, and the check every command makes before it reads or writes).
#pragma once

namespace reconciler::store {

class schema {
public:
    virtual ~schema() = default;

    virtual int schema_version() = 0;  // 0 when the reconciler schema is absent
    virtual int latest_schema_version() const = 0;
    virtual int migrate() = 0;  // applies pending migrations; returns how many
    // Throws schema_error (with the fix) when the database is not an app
    // database, lacks the reconciler schema, or is at a different schema
    // version than this build.
    virtual void check_schema() = 0;
};

}  // namespace reconciler::store
