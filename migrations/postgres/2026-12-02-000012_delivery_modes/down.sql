ALTER TABLE counties DROP COLUMN police_delivery;
ALTER TABLE counties DROP COLUMN social_services_delivery;
ALTER TABLE counties DROP COLUMN on_call_delivery;
ALTER TABLE counties DROP COLUMN guardian_delivery;
ALTER TABLE counties DROP COLUMN migrationsverket_delivery;
ALTER TABLE counties DROP COLUMN assigning_municipality_delivery;
ALTER TABLE counties DROP COLUMN trafficking_coordinator_delivery;
ALTER TABLE notifications DROP COLUMN delivery_mode;
