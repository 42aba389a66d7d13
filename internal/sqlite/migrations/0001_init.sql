-- 0001: the initial schema.
--
-- Times are INTEGER unix nanoseconds (UTC). Columns named template, face,
-- request and data hold values sealed by the store's facereg.Sealer; nothing
-- else is secret. Tables are STRICT so that a wrongly typed value is an
-- error, not a silent conversion.

-- meta holds facts about the database itself, such as the sealed canary
-- that tells at open whether the configured key is the one in use.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    settings   TEXT NOT NULL, -- JSON of facereg.TenantSettings
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    hash       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

CREATE TABLE registrations (
    key         TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    external_id TEXT NOT NULL,
    model       TEXT NOT NULL,
    template    BLOB NOT NULL, -- sealed little-endian float32s, aad tenant/key
    face        BLOB,          -- sealed JPEG, aad tenant/key/face
    box_x       REAL NOT NULL,
    box_y       REAL NOT NULL,
    box_width   REAL NOT NULL,
    box_height  REAL NOT NULL,
    liveness    REAL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, external_id)
) STRICT;
CREATE INDEX registrations_tenant_key ON registrations (tenant_id, key);

CREATE TABLE tasks (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    request    BLOB NOT NULL, -- sealed, aad tenant/task/id
    result     BLOB,
    http_code  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX tasks_unfinished ON tasks (created_at, id) WHERE status IN ('pending', 'running');

CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     TEXT NOT NULL REFERENCES tasks (id),
    tenant_id   TEXT NOT NULL, -- copied from the task, for scoping
    attempt     INTEGER NOT NULL,
    url         TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_task ON deliveries (task_id, id);

-- The audit log has no foreign key: an audit row is never refused.
CREATE TABLE transactions (
    id               TEXT PRIMARY KEY, -- caller-generated, time ordered
    tenant_id        TEXT NOT NULL,
    operation        TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    registration_key TEXT NOT NULL DEFAULT '',
    external_id      TEXT NOT NULL DEFAULT '',
    latency_ms       REAL NOT NULL,
    created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX transactions_tenant_created ON transactions (tenant_id, created_at);
CREATE INDEX transactions_tenant_id ON transactions (tenant_id, id);
CREATE INDEX transactions_tenant_external ON transactions (tenant_id, external_id, id);

CREATE TABLE idempotency (
    tenant_id    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT;
CREATE INDEX idempotency_created ON idempotency (created_at);

CREATE TABLE records (
    tenant_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    data       BLOB NOT NULL, -- sealed, aad tenant/kind/id
    expires_at INTEGER,       -- NULL: never
    PRIMARY KEY (tenant_id, kind, id)
) STRICT;
CREATE INDEX records_expires ON records (expires_at) WHERE expires_at IS NOT NULL;
