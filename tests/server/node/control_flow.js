// apfsm's control API driven from JavaScript, beside the official Amazon Pay Node SDK
// (issue 13): read the clock, move it by a duration, to an instant and to the next event,
// fire Amazon-side and buyer events, disturb IPN delivery — and what the SDK reads
// afterwards. Run by tests/server/test_server_clients.py against
// `apfsm serve --tls --public-key ... --start 2026-03-02T09:00:00Z --notify-url ...`;
// prints one JSON object of what it saw, which the test checks.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebStoreClient } = require('@amazonpay/amazon-pay-api-sdk-nodejs');

const host = process.env.APFSM_HOST; // 127.0.0.1:PORT of apfsm serve --tls
const client = new WebStoreClient({
    publicKeyId: 'SANDBOX-AHAPFSMEXAMPLEKEY',
    privateKey: fs.readFileSync(process.env.APFSM_PRIVATE_KEY),
    region: 'us',
    sandbox: true,
    algorithm: 'AMZN-PAY-RSASSA-PSS-V2',
    overrideServiceUrl: host, // also makes the SDK accept the self-signed certificate
});

// One control call: any method, a JSON body or none; resolves {status, data}.
function control(method, path, body) {
    const data = body === undefined ? '' : JSON.stringify(body);
    return new Promise((resolve, reject) => {
        const request = https.request({
            host: host.split(':')[0], port: host.split(':')[1], path, method,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
            rejectUnauthorized: false, // apfsm --tls: a self-signed certificate (or pass its ca)
        }, (response) => {
            let text = '';
            response.on('data', (chunk) => { text += chunk; });
            response.on('end', () => resolve({ status: response.statusCode, data: JSON.parse(text) }));
        });
        request.on('error', reject);
        request.end(data);
    });
}

// An SDK call that Amazon refuses rejects; either way: {status, data}.
async function answer(promise) {
    try {
        const response = await promise;
        return { status: response.status, data: response.data };
    } catch (err) {
        const response = err.response || err;
        return { status: response.status, data: response.data };
    }
}

// The IPN endpoint a shop would have: records each SNS envelope apfsm POSTs.
const received = [];
function startReceiver(port) {
    const server = http.createServer((request, response) => {
        let text = '';
        request.on('data', (chunk) => { text += chunk; });
        request.on('end', () => {
            received.push(JSON.parse(text));
            response.writeHead(200);
            response.end();
        });
    });
    return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function waitFor(test, what) {
    for (let i = 0; i < 300; i += 1) {
        if (test()) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
}

const price = (amount) => ({ amount, currencyCode: 'USD' });
const stateOf = (object) => object.statusDetails.state;
let keys = 0;
const key = () => ({ 'x-amz-pay-idempotency-key': `control-${(keys += 1)}` });

function sessionBody(amount) {
    return {
        webCheckoutDetails: {
            checkoutReviewReturnUrl: 'https://shop.example/review',
            checkoutResultReturnUrl: 'https://shop.example/result',
        },
        storeId: 'amzn1.application-oa2-client.apfsm',
        paymentDetails: { paymentIntent: 'Authorize', chargeAmount: price(amount) },
    };
}

// Create, approve (the buyer, over the control API) and complete: an Authorized charge.
async function checkout(amount) {
    const created = await client.createCheckoutSession(sessionBody(amount), key());
    const id = created.data.checkoutSessionId;
    await control('POST', '/_apfsm/buyer/approve', { checkoutSessionId: id, card: '1111' });
    const done = await client.completeCheckoutSession(id, { chargeAmount: price(amount) });
    return done.data;
}

async function main() {
    const out = {};
    const receiver = await startReceiver(Number(process.env.APFSM_NOTIFY_PORT));

    // The clock: where --start put it; nothing scheduled yet.
    out.clock = (await control('GET', '/_apfsm/clock')).data;

    // A checkout session expires 24 hours after it was created (SPEC §2): moved past that
    // by a duration, the SDK reads it Canceled/Expired and cannot complete it.
    const abandoned = (await client.createCheckoutSession(sessionBody('15.00'), key())).data;
    const scheduled = (await control('GET', '/_apfsm/clock')).data;
    out.expiryScheduled = scheduled.pendingEvents.filter((e) => e.objectId === abandoned.checkoutSessionId);
    out.advance24h = await control('POST', '/_apfsm/clock/advance', { hours: 24 });
    const expired = await client.getCheckoutSession(abandoned.checkoutSessionId);
    out.expired = expired.data.statusDetails;
    out.completeExpired = await answer(
        client.completeCheckoutSession(abandoned.checkoutSessionId, { chargeAmount: price('15.00') }));

    // A capture more than 7 days after authorization is asynchronous: CaptureInitiated,
    // then Captured once the clock runs to the next event.
    const late = await checkout('30.00');
    const waitingCharge = await checkout('12.00'); // stays Authorized: expires in 30 days
    out.advance8d = await control('POST', '/_apfsm/clock/advance', { days: 8 });
    const capture = await client.captureCharge(late.chargeId, { captureAmount: price('30.00') }, key());
    out.lateCapture = stateOf(capture.data);
    const next = (await control('GET', '/_apfsm/clock')).data;
    out.nextEvent = next.pendingEvents.find((e) => e.objectId === late.chargeId);
    out.untilNext = await control('POST', '/_apfsm/clock/advance', { untilNextEvent: true });
    out.captured = stateOf((await client.getCharge(late.chargeId)).data);

    // Amazon's side: the payment method fails — the SDK sees the permission NonChargeable
    // and a new charge refused; the buyer fixes it; Amazon cancels a charge.
    const problem = await control('POST', '/_apfsm/event', {
        objectId: waitingCharge.chargePermissionId, event: 'payment_method_problem', reason: 'PaymentMethodInvalid',
    });
    out.problem = { status: problem.status, state: stateOf(problem.data) };
    const permission = (await client.getChargePermission(waitingCharge.chargePermissionId)).data;
    out.permission = { state: stateOf(permission), reasons: permission.statusDetails.reasons };
    out.chargeOnNonChargeable = await answer(client.createCharge(
        { chargePermissionId: waitingCharge.chargePermissionId, chargeAmount: price('1.00') }, key()));
    await control('POST', '/_apfsm/event', { objectId: waitingCharge.chargePermissionId, event: 'payment_method_fixed' });
    out.fixed = stateOf((await client.getChargePermission(waitingCharge.chargePermissionId)).data);
    const other = await checkout('5.00');
    const canceled = await control('POST', '/_apfsm/event', { objectId: other.chargeId, event: 'amazon_cancel' });
    out.amazonCancel = { status: canceled.status, details: canceled.data.statusDetails };
    out.captureCanceled = await answer(
        client.captureCharge(other.chargeId, { captureAmount: price('5.00') }, key()));
    // A wrong event is refused in Amazon's error shape, not a 500.
    out.wrongEvent = await control('POST', '/_apfsm/event', { objectId: other.chargeId, event: 'capture_completed' });

    // To an instant: 30 days after its authorization the waiting charge has expired.
    out.advanceTo = await control('POST', '/_apfsm/clock/advance', { to: '2026-04-12T09:00:00Z' });
    const expiredCharge = (await client.getCharge(waitingCharge.chargeId)).data;
    out.expiredCharge = { state: stateOf(expiredCharge), reasonCode: expiredCharge.statusDetails.reasonCode };

    // IPN faults: the next notification is delivered twice with one MessageId.
    await waitFor(() => received.length > 0, 'the first notifications');
    out.faults = await control('POST', '/_apfsm/ipn/faults', { fault: 'duplicate', count: 1 });
    const before = received.length;
    const fresh = await checkout('7.00');
    const canceledBySdk = await client.cancelCharge(fresh.chargeId, { cancellationReason: 'out of stock' });
    out.cancel = stateOf(canceledBySdk.data);
    await waitFor(() => {
        const ids = received.slice(before).map((e) => e.MessageId);
        return ids.some((id, i) => ids.indexOf(id) !== i);
    }, 'a duplicated notification');
    const ids = received.slice(before).map((e) => e.MessageId);
    const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
    out.duplicated = twice.length;
    out.faultsLeft = (await control('GET', '/_apfsm/ipn/faults')).data;
    out.clockAtEnd = (await control('GET', '/_apfsm/clock')).data.now;

    receiver.close();
    process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
    const response = err.response || err;
    process.stderr.write(`failed: ${response.status || ''} ${JSON.stringify(response.data || String(err))}\n`);
    process.exit(1);
});
