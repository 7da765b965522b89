-- Prevention (SPEC §7, issue #16): when the preparedness sheet was last gone through, and the asylum
-- decision as a date and an outcome, so that the worklist can prompt staff before a child goes missing.
ALTER TABLE children ADD COLUMN preparedness_reviewed_at TIMESTAMP;
ALTER TABLE children ADD COLUMN asylum_decision_date DATE;
ALTER TABLE children ADD COLUMN asylum_decision_outcome TEXT;
ALTER TABLE children ADD COLUMN asylum_decision_recorded_at TIMESTAMP;
