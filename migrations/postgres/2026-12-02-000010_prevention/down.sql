ALTER TABLE children DROP COLUMN asylum_decision_recorded_at;
ALTER TABLE children DROP COLUMN asylum_decision_outcome;
ALTER TABLE children DROP COLUMN asylum_decision_date;
ALTER TABLE children DROP COLUMN preparedness_reviewed_at;
