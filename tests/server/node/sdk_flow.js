// The official Amazon Pay Node SDK against `apfsm serve --tls --public-key ...`.
// Run by tests/test_server_clients.py, which installs the SDK into a cache directory (NODE_PATH)
// and reads the JSON this prints: each step's HTTP status and the fields it checks.
'use strict';

const fs = require('fs');
const https = require('https');
const { WebStoreClient } = require('@amazonpay/amazon-pay-api-sdk-nodejs');

const host = process.env.APFSM_HOST; // e.g. 127.0.0.1:8443
const order = process.env.APFSM_ORDER || 'node-order-1'; // prefixes the idempotency keys
const client = new WebStoreClient({
    publicKeyId: 'SANDBOX-AHAPFSMEXAMPLEKEY', // LIVE/SANDBOX key ids call /v2 without a prefix
    privateKey: fs.readFileSync(process.env.APFSM_PRIVATE_KEY),
    region: 'us',
    sandbox: true,
    algorithm: process.env.APFSM_ALGORITHM || 'AMZN-PAY-RSASSA-PSS-V2',
    overrideServiceUrl: host,
});

// The buyer's side, through apfsm's control endpoints (not part of the SDK).
function control(path, body) {
    const data = JSON.stringify(body);
    return new Promise((resolve, reject) => {
        const request = https.request({
            host: host.split(':')[0], port: host.split(':')[1], path, method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
            rejectUnauthorized: false, // apfsm --tls: a self-signed certificate
        }, (response) => {
            let text = '';
            response.on('data', (chunk) => { text += chunk; });
            response.on('end', () => resolve({ status: response.statusCode, data: JSON.parse(text) }));
        });
        request.on('error', reject);
        request.end(data);
    });
}

// A refused call rejects with the axios error (its response) or the response itself.
async function refused(promise) {
    try {
        const response = await promise;
        return { status: response.status, data: response.data };
    } catch (err) {
        const response = err.response || err;
        return { status: response.status, data: response.data };
    }
}

const price = (amount) => ({ amount, currencyCode: 'USD' });

async function main() {
    const out = {};
    const sessionBody = {
        webCheckoutDetails: {
            checkoutReviewReturnUrl: 'https://shop.example/review',
            checkoutResultReturnUrl: 'https://shop.example/result',
        },
        storeId: 'amzn1.application-oa2-client.apfsm',
        paymentDetails: { paymentIntent: 'Authorize', chargeAmount: price('49.99') },
        merchantMetadata: { merchantReferenceId: order },
    };
    const key = { 'x-amz-pay-idempotency-key': `${order}-session` };
    const created = await client.createCheckoutSession(sessionBody, key);
    const again = await client.createCheckoutSession(sessionBody, key); // a retry: a replay
    out.create = { status: created.status, id: created.data.checkoutSessionId };
    out.retry = { status: again.status, id: again.data.checkoutSessionId };
    const sessionId = created.data.checkoutSessionId;

    out.approve = (await control('/_apfsm/buyer/approve', { checkoutSessionId: sessionId, card: '1111' })).status;
    const got = await client.getCheckoutSession(sessionId);
    out.get = { status: got.status, constraints: got.data.constraints };

    const completed = await client.completeCheckoutSession(
        sessionId, { chargeAmount: price('49.99') }, { 'x-amz-pay-idempotency-key': `${order}-complete` });
    out.complete = { status: completed.status, state: completed.data.statusDetails.state };
    const chargeId = completed.data.chargeId;

    const captured = await client.captureCharge(
        chargeId, { captureAmount: price('49.99') }, { 'x-amz-pay-idempotency-key': `${order}-capture` });
    out.capture = { status: captured.status, state: captured.data.statusDetails.state };

    const refund = await client.createRefund(
        { chargeId, refundAmount: price('9.99') }, { 'x-amz-pay-idempotency-key': `${order}-refund` });
    out.refund = { status: refund.status, state: refund.data.statusDetails.state };
    await control('/_apfsm/clock/advance', { seconds: 30 });
    const settled = await client.getRefund(refund.data.refundId);
    out.refunded = { status: settled.status, state: settled.data.statusDetails.state };
    const charge = await client.getCharge(chargeId);
    out.charge = { state: charge.data.statusDetails.state, refundedAmount: charge.data.refundedAmount };

    // A second capture is refused: Amazon's error shape reaches the SDK's caller.
    out.recapture = await refused(client.captureCharge(
        chargeId, { captureAmount: price('1.00') }, { 'x-amz-pay-idempotency-key': `${order}-capture-2` }));
    const permission = await client.getChargePermission(completed.data.chargePermissionId);
    out.permission = { status: permission.status, state: permission.data.statusDetails.state };
    // Delivery Tracker: the SDK's deliveryTrackers (AmazonPayClient), after shipping.
    const tracker = await client.deliveryTrackers({
        chargePermissionId: completed.data.chargePermissionId,
        deliveryDetails: [{ trackingNumber: '1Z999AA10123456784', carrierCode: 'UPS' }],
    }, { 'x-amz-pay-idempotency-key': `${order}-tracker` }); // apfsm requires it on every POST
    out.tracker = { status: tracker.status, data: tracker.data, id: completed.data.chargePermissionId };
    // Finalize (Buy Now / mobile): the SDK's finalizeCheckoutSession, the intent in the body.
    const buyNow = await client.createCheckoutSession(
        { ...sessionBody, merchantMetadata: { merchantReferenceId: `${order}-buy-now` } },
        { 'x-amz-pay-idempotency-key': `${order}-buy-now` });
    const buyNowId = buyNow.data.checkoutSessionId;
    await control('/_apfsm/buyer/approve', { checkoutSessionId: buyNowId, card: '1111' });
    const finalized = await client.finalizeCheckoutSession(buyNowId, {
        chargeAmount: price('49.99'),
        paymentIntent: 'AuthorizeWithCapture',
        canHandlePendingAuthorization: false,
        shippingAddress: { name: 'Susie Smith', addressLine1: '10 Ditka Ave', countryCode: 'US' },
    }, { 'x-amz-pay-idempotency-key': `${order}-finalize` });
    const finalCharge = await client.getCharge(finalized.data.chargeId);
    out.finalize = {
        status: finalized.status,
        state: finalized.data.statusDetails.state,
        charge: finalCharge.data.statusDetails.state,
    };
    // A Confirm checkout, then the permission's own calls: updateCheckoutSession while Open,
    // createCharge on the permission, updateCharge (a PSP's Canceled), cancelCharge,
    // updateChargePermission and closeChargePermission.
    const later = await client.createCheckoutSession(
        { ...sessionBody, paymentDetails: { paymentIntent: 'Confirm', chargeAmount: price('20.00') } },
        { 'x-amz-pay-idempotency-key': `${order}-confirm` });
    const laterId = later.data.checkoutSessionId;
    const updated = await client.updateCheckoutSession(
        laterId, { merchantMetadata: { merchantReferenceId: `${order}-confirm`, noteToBuyer: 'Thanks' } });
    out.updateSession = { status: updated.status, note: updated.data.merchantMetadata.noteToBuyer };
    await control('/_apfsm/buyer/approve', { checkoutSessionId: laterId, card: '1111' });
    const confirmed = await client.completeCheckoutSession(
        laterId, { chargeAmount: price('20.00') }, { 'x-amz-pay-idempotency-key': `${order}-confirm-complete` });
    const laterPermission = confirmed.data.chargePermissionId;
    const chargeBody = (n) => ({
        chargePermissionId: laterPermission, chargeAmount: price('5.00'), captureNow: false,
        merchantMetadata: { merchantReferenceId: `${order}-charge-${n}` },
    });
    const first = await client.createCharge(chargeBody(1), { 'x-amz-pay-idempotency-key': `${order}-charge-1` });
    const reported = await client.updateCharge(
        first.data.chargeId, { statusDetails: { state: 'Canceled', reasonCode: 'ExpiredUnused' } });
    const second = await client.createCharge(chargeBody(2), { 'x-amz-pay-idempotency-key': `${order}-charge-2` });
    const canceled = await client.cancelCharge(second.data.chargeId, { cancellationReason: 'out of stock' });
    const metadata = await client.updateChargePermission(
        laterPermission, { merchantMetadata: { merchantStoreName: 'apfsm shop' } });
    const closed = await client.closeChargePermission(
        laterPermission, { closureReason: 'order canceled', cancelPendingCharges: false });
    out.permissionCalls = {
        confirm: [confirmed.status, confirmed.data.chargeId],
        createCharge: [first.status, first.data.statusDetails.state],
        updateCharge: [reported.status, reported.data.statusDetails.state, reported.data.statusDetails.reasonCode],
        cancelCharge: [canceled.status, canceled.data.statusDetails.state, canceled.data.statusDetails.reasonCode],
        updatePermission: [metadata.status, metadata.data.merchantMetadata.merchantStoreName],
        closePermission: [closed.status, closed.data.statusDetails.state],
    };
    // Get Buyer (Amazon Sign-in): a buyer token from apfsm's sign-in, read with the SDK's
    // getBuyer (src/client.js: GET buyers/${buyerToken}).
    const signIn = await control('/_apfsm/buyer/sign-in', { scopes: ['name', 'email'] });
    const buyer = await client.getBuyer(signIn.data.buyerToken);
    out.buyer = { signIn: signIn.status, status: buyer.status, buyerId: buyer.data.buyerId, name: buyer.data.name };
    // Disputes (the SDK's 2.3.2+ calls, src/client.js): the buyer files a chargeback on the
    // captured charge through apfsm's control API; the merchant uploads evidence (uploadFile)
    // and contests (contestDispute).
    const filed = await control('/_apfsm/buyer/dispute', { chargeId, filingReason: 'ProductNotReceived' });
    const disputeId = filed.data.disputeId;
    const file = await client.uploadFile(
        { type: 'pdf', purpose: 'disputeEvidence' }, { 'x-amz-pay-idempotency-key': `${order}-file` });
    const contested = await client.contestDispute(disputeId, {
        merchantEvidences: [{ evidenceType: 'TrackingNumber', fileId: file.data.id, evidenceText: '1Z999AA10123456784' }],
    });
    const readDispute = await client.getDispute(disputeId);
    // tst/webStoreClientTest.js 'WebStore Client Test Cases - Disputes APIs', in its order and
    // with its payloads: createDispute, getDispute, updateDispute (Resolved, MerchantWon,
    // MerchantAcceptedDispute), contestDispute, each expected to answer 200. The test sends
    // one headers object to all four, and so does this: idempotency keys count per
    // operation, so the contest's key is its own (docs/dispute.md).
    const headers = { 'x-amz-pay-idempotency-key': `${order}-dispute` };
    const reportedDispute = await client.createDispute({
        chargeId,
        providerMetadata: { providerDisputeId: 'A2CQXQ2TUSYG7J' },
        disputeAmount: { amount: '1', currencyCode: 'USD' },
        filingReason: 'ProductNotReceived',
        filingTimestamp: Date.now(),
        statusDetails: { state: 'ActionRequired' },
        merchantResponseDeadline: Date.now() + (14 * 24 * 60 * 60 * 1000),
    }, headers);
    const reportedId = reportedDispute.data.disputeId;
    const readReported = await client.getDispute(reportedId, headers);
    const closedDispute = await client.updateDispute(reportedId, {
        statusDetails: {
            resolution: 'MerchantWon', state: 'Resolved', reasonCode: 'MerchantAcceptedDispute',
            reasonDescription: 'Merchant accepted the dispute request',
        },
        closureTimestamp: Date.now(),
    }, headers);
    const reopened = await client.contestDispute(reportedId, {
        merchantEvidences: [{
            evidenceType: 'TrackingNumber', fileId: 'ababcbchdhdhhduathcfjhf',
            evidenceText: 'raw text supporting merchant evidence',
        }],
    }, headers);
    // validateDisputeAPIResponse: status 200 and expectedDisputeResponseKeys.
    const disputeKeys = ['disputeId', 'chargeId', 'disputeType', 'disputeAmount', 'filingReason',
        'resolutionAuthority', 'statusDetails', 'merchantResponseDeadline', 'releaseEnvironment'];
    const hasKeys = (r) => disputeKeys.every((key) => Object.prototype.hasOwnProperty.call(r.data, key));
    out.disputes = {
        filed: [filed.status, filed.data.statusDetails.state],
        upload: [file.status, file.data.purpose, file.data.id === contested.data.merchantEvidences[0].fileId],
        contest: [contested.status, contested.data.statusDetails.state],
        get: [readDispute.status, readDispute.data.disputeType, readDispute.data.merchantEvidences.length],
        create: [reportedDispute.status, reportedDispute.data.statusDetails.state, reportedDispute.data.providerMetadata.providerDisputeId],
        getReported: [readReported.status, readReported.data.statusDetails.state],
        update: [closedDispute.status, closedDispute.data.statusDetails.state, closedDispute.data.statusDetails.resolution],
        contestResolved: [reopened.status, reopened.data.statusDetails.state, reopened.data.statusDetails.resolution, reopened.data.merchantEvidences.length],
        keys: [reportedDispute, readReported, closedDispute, reopened].every(hasKeys),
    };
    // Reports (src/client.js's CV2 Reporting APIs; docs/reports.md), with the payloads of
    // tst/webStoreClientTest.js: a report finishes after the processing time (the clock).
    const auth = '_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_';
    const report = await client.createReport(
        { reportType: auth, startTime: '20000101T000000Z', endTime: '20990101T000000Z' },
        { 'x-amz-pay-idempotency-key': `${order}-report` });
    await control('/_apfsm/clock/advance', { seconds: 60 });
    const readReport = await client.getReportById(report.data.reportId);
    const doc = await client.getReportDocument(readReport.data.reportDocumentId);
    const listed = await client.getReports({ reportTypes: [auth], pageSize: '10' });
    const schedule = await client.createReportSchedule({
        reportType: auth, scheduleFrequency: 'PT84H',
        nextReportCreationTime: '20230618T150630Z', deleteExistingSchedule: true,
    }, { 'x-amz-pay-idempotency-key': `${order}-schedule` });
    const scheduleId = schedule.data.reportScheduleId;
    const schedules = await client.getReportSchedules(auth);
    const readSchedule = await client.getReportScheduleById(scheduleId);
    const cancelled = await client.cancelReportSchedule(scheduleId);
    out.reports = {
        create: report.status,
        get: [readReport.status, readReport.data.processingStatus, Object.keys(readReport.data)],
        document: [doc.status, doc.data.compressionAlgorithm, doc.data.url.startsWith('data:text/csv;base64,')],
        list: [listed.status, listed.data.reports.some((r) => r.reportId === report.data.reportId)],
        createSchedule: schedule.status,
        schedules: [schedules.status, schedules.data.reportSchedules.map((s) => s.reportScheduleId)],
        getSchedule: [readSchedule.status, Object.keys(readSchedule.data), readSchedule.data.reportScheduleId === scheduleId],
        cancel: cancelled.status,
    };
    process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
    const response = err.response || err;
    process.stderr.write(`failed: ${response.status || ''} ${JSON.stringify(response.data || String(err))}\n`);
    process.exit(1);
});
