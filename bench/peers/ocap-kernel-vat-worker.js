// One vat of ocap-kernel's host (ocap-kernel-host.js), in a worker thread: SES through
// @metamask/kernel-shims' endoify (as ocap-kernel's own Node vat worker does), then a
// VatSupervisor over a NodeWorkerDuplexStream on the parent port. Bundles are files:
// Node's fetch does not read file: URLs, so fetchBlob reads them.
import '@metamask/kernel-shims/endoify';
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { Logger } from '@metamask/logger';
import { VatSupervisor } from '@metamask/ocap-kernel';
import { NodeWorkerDuplexStream } from '@metamask/streams';

const { vatId } = workerData;
const logger = new Logger({ tags: ['vat', vatId] });
const kernelStream = await NodeWorkerDuplexStream.make(parentPort);
const fetchBlob = async (url) => new Response(await readFile(new URL(url)));
// The supervisor serves the kernel's messages from here on.
new VatSupervisor({ id: vatId, kernelStream, logger, fetchBlob, vatPowers: { logger } });
