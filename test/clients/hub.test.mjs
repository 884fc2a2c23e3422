// The official JS client, @huggingface/hub, used through hf-micro's drop-in Hub endpoint exactly as a user
// would: hubUrl is hf-micro, accessToken is an hf-micro client key. cmd/hf-micro/realclient_test.go starts a
// fake Hub and hf-micro and runs this file with `node --test`; it also works against any hf-micro whose
// server token may write in HF_MICRO_USER's namespace.
//
// Environment:
//   HF_MICRO_URL          hf-micro's base URL, no trailing slash
//   HF_MICRO_KEY          a client key (hf_micro_...), passed as the client's accessToken
//   HF_MICRO_USER         the server token's user; repositories are created and deleted under it
//   HF_MICRO_LIST_OWNER   a namespace holding HF_MICRO_LIST_COUNT models named <owner>/bulk-NNNN, every
//                         tenth (NNNN % 10 == 0) private, and no other model
//   HF_MICRO_LIST_COUNT   more than 1000, so listing them takes at least three pages of 500

import assert from "node:assert/strict";
import { test } from "node:test";
import {
	HubApiError,
	createRepo,
	datasetInfo,
	deleteRepo,
	listModels,
	modelInfo,
	repoExists,
	spaceInfo,
	whoAmI,
} from "@huggingface/hub";
import { env } from "./env.mjs";

const hubUrl = env("HF_MICRO_URL");
const accessToken = env("HF_MICRO_KEY");
const user = env("HF_MICRO_USER");
const listOwner = env("HF_MICRO_LIST_OWNER");
const listCount = Number(env("HF_MICRO_LIST_COUNT"));
assert.ok(!hubUrl.endsWith("/"), "HF_MICRO_URL must not end with a slash: the client would request //api/...");

// Every request the library makes goes through the global fetch (no function here is given its own), so
// recording it shows where each request went, including the pages that Link headers pointed to.
const requests = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
	const url = input instanceof Request ? input.url : String(input);
	const method = init?.method ?? (input instanceof Request ? input.method : "GET");
	requests.push({ method, url });
	return realFetch(input, init);
};

/** The requests made while fn ran. */
async function recorded(fn) {
	const start = requests.length;
	const result = await fn();
	return { result, calls: requests.slice(start) };
}

/** Asserts that fn throws a HubApiError with this status, and returns it. */
async function hubError(status, fn) {
	try {
		await fn();
	} catch (err) {
		assert.ok(err instanceof HubApiError, `expected a HubApiError, got ${err?.stack ?? err}`);
		assert.equal(err.statusCode, status, err.message);
		assert.ok(err.url.startsWith(hubUrl + "/"), `the error names ${err.url}, not hf-micro`);
		return err;
	}
	assert.fail(`expected a HubApiError ${status}, but the call succeeded`);
}

const objectId = /^[0-9a-f]{24}$/;
const model = `${user}/js-client-model`;
const dataset = `${user}/js-client-dataset`;
const space = `${user}/js-client-space`;

test("whoAmI answers for the server's token, with its auth info", async () => {
	const me = await whoAmI({ hubUrl, accessToken });
	assert.equal(me.name, user);
	assert.equal(me.type, "user");
	assert.ok(me.auth?.accessToken, `no auth.accessToken in ${JSON.stringify(me.auth)}`);
	assert.equal(me.auth.accessToken.role, "write");
	assert.ok(me.auth.accessToken.createdAt instanceof Date && !isNaN(me.auth.accessToken.createdAt));
});

test("a key hf-micro does not know is refused with a readable 401", async () => {
	const err = await hubError(401, () => whoAmI({ hubUrl, accessToken: "hf_micro_notaconfiguredkey0123456789" }));
	assert.ok(err.data && typeof err.data.error === "string", `the 401 is not JSON: ${JSON.stringify(err.data)}`);
});

test("createRepo: a public model", async () => {
	const { repoUrl, id } = await createRepo({ hubUrl, accessToken, repo: model });
	assert.match(id, objectId);
	assert.ok(repoUrl.endsWith(`/${model}`), repoUrl);
});

test("createRepo: a private dataset", async () => {
	const { repoUrl, id } = await createRepo({ hubUrl, accessToken, repo: `datasets/${dataset}`, visibility: "private" });
	assert.match(id, objectId);
	assert.ok(repoUrl.endsWith(`/datasets/${dataset}`), repoUrl);
});

test("createRepo: a space, with the client's default sdk", async () => {
	const { repoUrl, id } = await createRepo({ hubUrl, accessToken, repo: { type: "space", name: space } });
	assert.match(id, objectId);
	assert.ok(repoUrl.endsWith(`/spaces/${space}`), repoUrl);
});

test("createRepo: what exists is a 409 that names it", async () => {
	const err = await hubError(409, () => createRepo({ hubUrl, accessToken, repo: model }));
	assert.ok(String(err.data?.url).endsWith(`/${model}`), JSON.stringify(err.data));
});

test("repoExists", async () => {
	assert.equal(await repoExists({ hubUrl, accessToken, repo: model }), true);
	assert.equal(await repoExists({ hubUrl, accessToken, repo: { type: "dataset", name: dataset } }), true);
	assert.equal(await repoExists({ hubUrl, accessToken, repo: `spaces/${space}` }), true);
	assert.equal(await repoExists({ hubUrl, accessToken, repo: `${user}/js-client-missing` }), false);
	// repoExists sends no credential unless given one, and maps 401 to false: without the key, hf-micro
	// (keys configured) answers 401 and every repository "does not exist".
	assert.equal(await repoExists({ hubUrl, repo: model }), false);
});

test("modelInfo, at HEAD and at refs/pr/1", async () => {
	const info = await modelInfo({ hubUrl, accessToken, name: model });
	assert.equal(info.name, model);
	assert.match(info.id, objectId);
	assert.equal(info.private, false);
	assert.equal(info.gated, false);
	assert.ok(info.updatedAt instanceof Date && !isNaN(info.updatedAt));

	const { result: atPR, calls } = await recorded(() => modelInfo({ hubUrl, accessToken, name: model, revision: "refs/pr/1" }));
	assert.equal(atPR.name, model);
	assert.equal(calls.length, 1);
	assert.ok(calls[0].url.includes("/revision/refs%2Fpr%2F1?"), calls[0].url);
});

test("datasetInfo of the private dataset", async () => {
	const info = await datasetInfo({ hubUrl, accessToken, name: dataset });
	assert.equal(info.name, dataset);
	assert.match(info.id, objectId);
	assert.equal(info.private, true);
});

test("spaceInfo", async () => {
	const info = await spaceInfo({ hubUrl, accessToken, name: space });
	assert.equal(info.name, space);
	assert.match(info.id, objectId);
	assert.equal(info.sdk, "static");
	assert.equal(info.private, false);
});

test("a missing repository is a HubApiError 404 with the Hub's message and request id", async () => {
	const err = await hubError(404, () => modelInfo({ hubUrl, accessToken, name: `${user}/js-client-missing` }));
	assert.match(err.message, /^Repository not found\. URL: /);
	assert.ok(err.requestId, "no X-Request-Id reached the client");
	await hubError(404, () => modelInfo({ hubUrl, accessToken, name: model, revision: "no-such-branch" }));
});

test(`listModels follows the Link pages through hf-micro (${listCount} models of ${listOwner})`, async () => {
	assert.ok(listCount > 1000, "HF_MICRO_LIST_COUNT must exceed 1000 for three pages of 500");
	const { result: models, calls } = await recorded(async () => {
		const out = [];
		for await (const m of listModels({ hubUrl, accessToken, search: { owner: listOwner } })) {
			out.push(m);
		}
		return out;
	});
	assert.equal(models.length, listCount);
	assert.equal(new Set(models.map((m) => m.name)).size, listCount, "a model came twice");
	for (const m of models) {
		const n = /^(.+)\/bulk-(\d+)$/.exec(m.name);
		assert.ok(n && n[1] === listOwner && Number(n[2]) < listCount, `unexpected model ${m.name}`);
		assert.equal(m.private, Number(n[2]) % 10 === 0, `${m.name} private=${m.private}`);
		assert.match(m.id, objectId);
	}
	// The client asks for pages of min(limit, 500) and stops once it has `limit` items, so only more than
	// 500 matching models make it follow Link at all; more than 1000 give the three pages.
	assert.ok(calls.length >= 3, `${calls.length} requests: ${calls.map((c) => c.url).join("\n")}`);
	assert.ok(calls.every((c) => c.url.startsWith(`${hubUrl}/api/models?`)), calls.map((c) => c.url).join("\n"));
	assert.ok(calls.slice(1).every((c) => new URL(c.url).searchParams.has("cursor")), "a next page without a cursor");
});

test("listModels with a limit smaller than a page makes one request", async () => {
	const { result: models, calls } = await recorded(async () => {
		const out = [];
		for await (const m of listModels({ hubUrl, accessToken, search: { owner: listOwner }, limit: 3 })) {
			out.push(m);
		}
		return out;
	});
	assert.equal(models.length, 3);
	assert.equal(calls.length, 1);
	assert.equal(new URL(calls[0].url).searchParams.get("limit"), "3");
});

test("deleteRepo each created repository, then it is gone", async () => {
	const repos = [model, `datasets/${dataset}`, { type: "space", name: space }];
	for (const repo of repos) {
		await deleteRepo({ hubUrl, accessToken, repo });
		assert.equal(await repoExists({ hubUrl, accessToken, repo }), false, JSON.stringify(repo));
	}
	await hubError(404, () => deleteRepo({ hubUrl, accessToken, repo: model }));
});

// Runs last (node:test runs a file's top-level tests in order): nothing went anywhere but hf-micro.
test("every request went to hf-micro", () => {
	assert.ok(requests.length > 0);
	const elsewhere = requests.filter((r) => !r.url.startsWith(hubUrl + "/"));
	assert.deepEqual(elsewhere, [], "requests that bypassed hf-micro");
});
