# The two commands of the README. Both set up what is missing first (Docker engine, venv, lab images).
.PHONY: demo test test-full faults bench lab-down

demo:  ## start a 3-node lab, deploy etcd on it, write keys, show members and health
	bash tests/lab/demo.sh

test:  ## unit tests, ansible-test sanity on ansible-core 2.16 to 2.21, ansible-lint, the core set of molecule scenarios on etcd 3.4 and 3.5
	bash tests/run.sh

test-full:  ## the same with every scenario on both etcd versions where it has run before, and the fault suite
	bash tests/run.sh full

faults:  ## only the fault suite (tests/fault) on etcd 3.4 and 3.5 (two labs at once), then docs/reliability.md from its rows
	bash tests/run.sh faults

# Not part of `make test`: the benchmark of docs/performance.md (issue #9), with the same set-up first (it also
# removes stale lab containers). Options in ARGS, e.g. make bench ARGS="--members 3,5 --sizes 50,500,1000 --out FILE".
bench:  ## time the playbooks against bare scripts of the runbook's commands on the lab (docs/performance.md)
	bash tests/lab/setup.sh
	.venv/bin/python bench/run.py $(ARGS)

# Also forgets molecule's state of every scenario: a state that still says "created" would skip the next create.
lab-down:  ## remove the lab containers and network, and molecule's state of them
	PATH=$(CURDIR)/.venv/bin:$$PATH molecule reset --all
	docker ps -aq --filter name='^etcd-ops-lab-' | xargs -r docker rm -f >/dev/null
	docker network ls -q --filter name='^etcd-ops-lab' | xargs -r docker network rm >/dev/null 2>&1 || true
