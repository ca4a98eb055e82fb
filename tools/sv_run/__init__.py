"""sv_run: a runner for the suricata-verify test format (see tools/sv-run).

Modules:
  match    -- filter/stats match semantics (pure functions, no I/O)
  reqs     -- version parsing, `requires:` and `skip:` evaluation
  engine   -- engine facts (--build-info) and the args mapping table
  runner   -- one test: resolve inputs, run the engine, evaluate checks
  cli      -- argument parsing, discovery, parallel run, report
"""
