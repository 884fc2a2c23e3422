// env reads a setting the Go test that runs these files passes in, and fails clearly when it is missing.
export function env(name) {
	const value = process.env[name];
	if (!value) {
		throw new Error(`${name} is not set; see the top of the test file`);
	}
	return value;
}
