-- The tenant's webhook secret leaves the settings JSON and is sealed like
-- every other secret at rest (aad tenant_id + "/webhook").
ALTER TABLE tenants ADD COLUMN webhook_secret BLOB;
