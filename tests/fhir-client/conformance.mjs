// Drives the API with fhir-kit-client (npm), a FHIR R4 client we did not write: reads the
// CapabilityStatement, creates, reads, updates and searches resources, follows paging
// links, and prints what it saw as one JSON line for tests/tests/fhir_client.rs to check.
//
// Usage: node conformance.mjs <base URL ending in /fhir/R4> <clinic slug> <bearer token>
//        <consent-kind code system>
// The clinic is named by X-Tenant-Slug (as mobile apps do): Node cannot resolve
// <slug>.localhost.
import { Client } from 'fhir-kit-client';

const [baseUrl, slug, token, consentSystem] = process.argv.slice(2);
const client = new Client({ baseUrl, customHeaders: { 'x-tenant-slug': slug } });
client.bearerToken = token;

const out = {};
const capability = await client.capabilityStatement();
out.fhirVersion = capability.fhirVersion;
out.types = capability.rest[0].resource.map((r) => r.type);

const patient = await client.create({
  resourceType: 'Patient',
  body: {
    resourceType: 'Patient',
    name: [{ family: 'Kit', given: ['Client'] }],
    gender: 'female',
    birthDate: '1984-03-09',
  },
});
out.patientId = patient.id;
const readBack = await client.read({ resourceType: 'Patient', id: patient.id });
out.patientFamily = readBack.name[0].family;
const patients = await client.search({ resourceType: 'Patient', searchParams: { name: 'kit' } });
out.patientMatches = patients.entry.map((e) => e.resource.id);

out.practitionerIds = [];
for (const i of [1, 2, 3]) {
  const p = await client.create({
    resourceType: 'Practitioner',
    body: {
      resourceType: 'Practitioner',
      active: true,
      identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.1', value: `kit-${i}` }],
      name: [{ family: `Kitdoc${i}` }],
    },
  });
  out.practitionerIds.push(p.id);
}
const first = out.practitionerIds[0];
const byIdentifier = await client.search({
  resourceType: 'Practitioner',
  searchParams: { identifier: 'urn:oid:1.2.250.1.71.4.2.1|kit-1' },
});
out.byIdentifier = byIdentifier.entry.map((e) => e.resource.id);

const current = await client.read({ resourceType: 'Practitioner', id: first });
const updated = await client.update({
  resourceType: 'Practitioner',
  id: first,
  body: { ...current, active: false },
  options: { headers: { 'if-match': `W/"${current.meta.versionId}"` } },
});
out.updatedVersion = updated.meta.versionId;
try {
  await client.update({
    resourceType: 'Practitioner',
    id: first,
    body: { ...current, active: true },
    options: { headers: { 'if-match': `W/"${current.meta.versionId}"` } },
  });
  out.staleUpdate = 'accepted';
} catch (e) {
  out.staleUpdate = e.response.status;
  out.staleOutcome = e.response.data.resourceType;
}

// Paging: two per page, following the server's next links until there are none.
let page = await client.search({
  resourceType: 'Practitioner',
  searchParams: { name: 'kitdoc', _count: 2 },
});
out.total = page.total;
out.paged = [];
for (;;) {
  out.paged.push(...page.entry.map((e) => e.resource.id));
  const next = await client.nextPage({ bundle: page });
  if (!next) break;
  page = next;
}
// Booking: a schedule for the first practitioner, slots from availability ($generate-slots,
// an instance operation), an Appointment for the first slot, then a search.
const schedule = await client.create({
  resourceType: 'Schedule',
  body: { resourceType: 'Schedule', actor: [{ reference: `Practitioner/${first}` }] },
});
const slots = await client.operation({
  name: 'generate-slots',
  resourceType: 'Schedule',
  id: schedule.id,
  input: {
    resourceType: 'Parameters',
    parameter: [
      { name: 'start', valueDate: '2027-02-01' },
      { name: 'end', valueDate: '2027-02-01' },
      { name: 'day', valueCode: 'mon' },
      { name: 'from', valueTime: '09:00:00' },
      { name: 'to', valueTime: '10:00:00' },
      { name: 'slotMinutes', valuePositiveInt: 20 },
      { name: 'timeZone', valueCode: 'Europe/Paris' },
    ],
  },
});
out.slotStarts = slots.entry.map((e) => e.resource.start);
const booking = {
  resourceType: 'Appointment',
  body: {
    resourceType: 'Appointment',
    status: 'booked',
    slot: [{ reference: `Slot/${slots.entry[0].resource.id}` }],
    participant: [{ actor: { reference: `Patient/${patient.id}` }, status: 'accepted' }],
  },
};
// The clinic (in France) books a teleconsultation only with the patient's consent: the
// client sees the refusal as an OperationOutcome, records the consent, then books.
try {
  await client.create(booking);
  out.withoutConsent = 'booked';
} catch (e) {
  out.withoutConsent = e.response?.status;
  out.withoutConsentIssue = e.response?.data?.issue?.[0]?.code;
}
await client.create({
  resourceType: 'Consent',
  body: {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] },
    category: [{ coding: [{ system: consentSystem, code: 'telemedicine' }] }],
    patient: { reference: `Patient/${patient.id}` },
    policyRule: { text: 'teleconsultation' },
    provision: { type: 'permit' },
  },
});
const appointment = await client.create(booking);
out.appointmentId = appointment.id;
out.appointmentStart = appointment.start;
const appointments = await client.search({
  resourceType: 'Appointment',
  searchParams: { patient: `Patient/${patient.id}`, date: 'ge2027-02-01' },
});
out.appointmentMatches = appointments.entry.map((e) => e.resource.id);

// Readings: a conditional create sent twice, a transaction Bundle, a search newest first.
const reading = (value, id, at) => ({
  resourceType: 'Observation',
  status: 'final',
  identifier: [{ system: 'urn:dev:kit', value: id }],
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  subject: { reference: `Patient/${patient.id}` },
  effectiveDateTime: at,
  valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
});
const conditional = { headers: { 'if-none-exist': 'identifier=urn:dev:kit|hr-0' } };
const created = await client.create({
  resourceType: 'Observation',
  body: reading(61, 'hr-0', '2026-11-30T06:00:00Z'),
  options: conditional,
});
const resent = await client.create({
  resourceType: 'Observation',
  body: reading(61, 'hr-0', '2026-11-30T06:00:00Z'),
  options: conditional,
});
out.resentSame = created.id === resent.id;
const tx = await client.transaction({
  body: {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [1, 2, 3].map((i) => ({
      resource: reading(60 + i, `hr-${i}`, `2026-11-30T0${6 + i}:00:00Z`),
      request: { method: 'POST', url: 'Observation' },
    })),
  },
});
out.transactionStatuses = tx.entry.map((e) => e.response.status);
const newest = await client.search({
  resourceType: 'Observation',
  searchParams: { patient: patient.id, _sort: '-date', _count: 2 },
});
out.newestFirst = newest.entry.map((e) => e.resource.effectiveDateTime);
out.readingsTotal = newest.total;
console.log(JSON.stringify(out));
