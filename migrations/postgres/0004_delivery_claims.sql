-- Several replicas deliver one broadcast: a delivery loop claims the rows
-- it will send (claimed_by, its replica id) for a lease that it renews
-- while alive (claimed_until, the database's clock in ms since 1970). A
-- row whose claim is absent, expired or the claimer's own may be claimed.
-- Same meaning as migrations/sqlite/0004_delivery_claims.sql.
ALTER TABLE broadcast_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE broadcast_deliveries ADD COLUMN claimed_until BIGINT;
