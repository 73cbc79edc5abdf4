# sam build: every function of template.yaml has Metadata BuildMethod: makefile, so SAM runs
# `make build-<LogicalId>` here with ARTIFACTS_DIR set to the folder it packages. One shared step bundles it with the
# project's installed esbuild, exactly as `npm run build` does; nothing is installed per function.
build-%:
	@test -x node_modules/.bin/esbuild || { echo 'run npm ci first: sam build bundles with the installed esbuild' >&2; exit 1; }
	node scripts/build.mjs --function $* --outdir "$(ARTIFACTS_DIR)"
