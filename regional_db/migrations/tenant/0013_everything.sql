-- `$everything` (shared/src/api/everything.rs) pages through each type of a patient's
-- compartment in creation order: (patient, seq) serves each page from an index.
CREATE INDEX appointments_by_patient_seq ON appointments (patient, seq);
CREATE INDEX observations_by_patient_seq ON observations (patient, seq);
CREATE INDEX consents_by_patient_seq ON consents (patient, seq);
