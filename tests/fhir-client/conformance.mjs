// Drives the API with fhir-kit-client (npm), a FHIR R4 client we did not write: reads the
// CapabilityStatement, creates, reads, updates and searches resources, follows paging
// links, and prints what it saw as one JSON line for tests/tests/fhir_client.rs to check.
//
// Usage: node conformance.mjs <base URL ending in /fhir/R4> <clinic slug> <bearer token>
// The clinic is named by X-Tenant-Slug (as mobile apps do): Node cannot resolve
// <slug>.localhost.
import { Client } from 'fhir-kit-client';

const [baseUrl, slug, token] = process.argv.slice(2);
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
console.log(JSON.stringify(out));
