# The two commands of the README. Both set up what is missing first (Docker engine, venv, lab images).
.PHONY: demo test faults lab-down

demo:  ## start a 3-node lab, deploy etcd on it, write keys, show members and health
	bash tests/lab/demo.sh

test:  ## unit tests, ansible-test sanity, ansible-lint, molecule scenarios on etcd 3.4 and 3.5
	bash tests/run.sh

faults:  ## only the fault suite (tests/fault) on etcd 3.5, then docs/reliability.md from its rows
	bash tests/run.sh faults

lab-down:  ## remove the lab containers and network
	PATH=$(CURDIR)/.venv/bin:$$PATH molecule destroy -s default
