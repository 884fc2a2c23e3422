// The official JS client's downloadFile through hf-micro's download cache: hubUrl is hf-micro, accessToken an
// hf-micro client key. cmd/hf-micro/cache_test.go (TestRealClientDownloadThroughCache) starts a fake Hub with
// its CDN and hf-micro with HF_MICRO_CACHE_DIR, runs this file twice, and checks that the second run made no
// CDN request.
//
// Environment:
//   HF_MICRO_URL     hf-micro's base URL, no trailing slash
//   HF_MICRO_KEY     a client key (hf_micro_...), passed as the client's accessToken
//   HF_MICRO_REPO    the model holding the file
//   HF_MICRO_PATH    the file's path in it
//   HF_MICRO_SHA256  the file's sha256, hex

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { downloadFile } from "@huggingface/hub";

function env(name) {
	const value = process.env[name];
	if (!value) {
		throw new Error(`${name} is not set; see the top of ${import.meta.url}`);
	}
	return value;
}

test("downloadFile gets the whole file, from hf-micro", async () => {
	const blob = await downloadFile({
		repo: env("HF_MICRO_REPO"),
		path: env("HF_MICRO_PATH"),
		hubUrl: env("HF_MICRO_URL"),
		accessToken: env("HF_MICRO_KEY"),
	});
	assert.ok(blob, "downloadFile found no file");
	const bytes = Buffer.from(await blob.arrayBuffer());
	assert.equal(createHash("sha256").update(bytes).digest("hex"), env("HF_MICRO_SHA256"));
});
