// The official JS client, @huggingface/hub, through hf-micro with keys that carry their own powers: a scoped
// key from the access file, and a key exchanged for a workload's OIDC ID token. cmd/hf-micro/realclient_test.go
// (TestRealClientScopedKeys) starts a fake Hub, a test OIDC issuer and hf-micro, and runs this file.
//
// Environment:
//   HF_MICRO_URL            hf-micro's base URL, no trailing slash
//   HF_MICRO_USER           the server token's user
//   HF_MICRO_SCOPED_KEY     a key that may read everything and write and delete only <user>/scoped-*
//   HF_MICRO_EXCHANGED_KEY  a key from POST /api/identity/exchange, whose identity may write only <user>/ci-*

import assert from "node:assert/strict";
import { test } from "node:test";
import { HubApiError, createRepo, deleteRepo, modelInfo, whoAmI } from "@huggingface/hub";
import { env } from "./env.mjs";

const hubUrl = env("HF_MICRO_URL");
const user = env("HF_MICRO_USER");
const scoped = env("HF_MICRO_SCOPED_KEY");
const exchanged = env("HF_MICRO_EXCHANGED_KEY");

/** Asserts that fn throws the client's HubApiError 403, naming the principal, and returns it. */
async function refused(principal, fn) {
	try {
		await fn();
	} catch (err) {
		assert.ok(err instanceof HubApiError, `expected a HubApiError, got ${err?.stack ?? err}`);
		assert.equal(err.statusCode, 403, err.message);
		assert.ok(err.message.includes(principal), `the 403 does not name ${principal}: ${err.message}`);
		return err;
	}
	assert.fail("expected a HubApiError 403, but the call succeeded");
}

test("a scoped key: whoAmI, and create, read and delete inside its pattern", async () => {
	assert.equal((await whoAmI({ hubUrl, accessToken: scoped })).name, user);
	const repo = `${user}/scoped-model`;
	await createRepo({ hubUrl, accessToken: scoped, repo });
	assert.equal((await modelInfo({ hubUrl, accessToken: scoped, name: repo })).name, repo);
	await deleteRepo({ hubUrl, accessToken: scoped, repo });
});

test("a scoped key: a write outside its pattern is the client's 403", async () => {
	await refused("key:scoped", () => createRepo({ hubUrl, accessToken: scoped, repo: `${user}/elsewhere` }));
	await refused("key:scoped", () => createRepo({ hubUrl, accessToken: scoped, repo: `spaces/${user}/elsewhere` }));
});

test("an exchanged key: whoAmI and a create inside its identity's pattern", async () => {
	assert.equal((await whoAmI({ hubUrl, accessToken: exchanged })).name, user);
	const repo = `${user}/ci-model`;
	await createRepo({ hubUrl, accessToken: exchanged, repo });
	assert.equal((await modelInfo({ hubUrl, accessToken: exchanged, name: repo })).name, repo);
});

test("an exchanged key: a write outside the pattern, and any delete, are the client's 403", async () => {
	await refused("identity:ci", () => createRepo({ hubUrl, accessToken: exchanged, repo: `${user}/not-ci` }));
	await refused("identity:ci", () => deleteRepo({ hubUrl, accessToken: exchanged, repo: `${user}/ci-model` }));
});
