// The workflows a job may run: which payer calls it makes per claim, and
// so which columns, totals and downloads its page has.

export const WORKFLOWS = [
  {
    id: 'status',
    label: 'Claim status',
    what: 'Status, charged and paid amounts.',
    calls: '1 payer call per claim.',
  },
  {
    id: 'details',
    label: 'Claim details',
    what: 'Status and service lines: allowed, patient responsibility, denied lines and their reasons.',
    calls: '1 payer call per claim.',
  },
  {
    id: 'payment',
    label: 'Payments',
    what: 'Status and the payments (EFT or check numbers, dates, amounts) of finalized claims.',
    calls: 'Up to 2 payer calls per claim: the status, then the payment only for finalized claims.',
  },
  {
    id: 'full',
    label: 'Everything',
    what: 'Status, service lines and payments.',
    calls: 'Up to 3 payer calls per claim: the status, then details and payment only for finalized claims.',
  },
];

// The workflow of a job; a server that does not say runs "status".
export function workflowOf(job) {
  const id = job && typeof job.workflow === 'string' ? job.workflow : 'status';
  return WORKFLOWS.find((w) => w.id === id) || WORKFLOWS[0];
}

export function hasDetails(wf) {
  return wf.id === 'details' || wf.id === 'full';
}

export function hasPayments(wf) {
  return wf.id === 'payment' || wf.id === 'full';
}
