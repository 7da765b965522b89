-- Per recipient kind, how a county's messages travel (SPEC §7): 'full' or 'notice'; NULL is the default
-- (notice for guardians and the trafficking coordinator, full for the others). A notification records the
-- mode it was sent in, so that the page behind a notice's link opens only for notices.
ALTER TABLE counties ADD COLUMN police_delivery TEXT;
ALTER TABLE counties ADD COLUMN social_services_delivery TEXT;
ALTER TABLE counties ADD COLUMN on_call_delivery TEXT;
ALTER TABLE counties ADD COLUMN guardian_delivery TEXT;
ALTER TABLE counties ADD COLUMN migrationsverket_delivery TEXT;
ALTER TABLE counties ADD COLUMN assigning_municipality_delivery TEXT;
ALTER TABLE counties ADD COLUMN trafficking_coordinator_delivery TEXT;
ALTER TABLE notifications ADD COLUMN delivery_mode TEXT;
