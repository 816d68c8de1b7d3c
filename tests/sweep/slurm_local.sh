#!/usr/bin/env bash
# A throw-away single-node Slurm on localhost, for the sweep tests: munged
# with a generated key, slurmctld and slurmd as root, every state, spool,
# socket and log file under one directory, free TCP ports. Source it, then
#   slurm_local_start DIR   (exports SLURM_CONF; returns 77 with a message on
#                            stderr when Slurm cannot start here)
#   slurm_local_stop        (stops the daemons it started, by their pids)
slurm_local_pids=()

slurm_local_skip() {
  echo "SKIP: single-node Slurm cannot start here: $*" >&2
  return 77
}

# Two free TCP ports on localhost (bound then released).
slurm_local_ports() {
  /usr/bin/python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

slurm_local_start() {
  local dir=$1
  [ "$(id -u)" -eq 0 ] || { slurm_local_skip "not root (slurmd must run as root)"; return 77; }
  local tool
  for tool in munged mungekey slurmctld slurmd sbatch squeue scontrol; do
    command -v "$tool" > /dev/null || [ -x "/usr/sbin/$tool" ] ||
      { slurm_local_skip "$tool not found (scripts/setup installs slurm-wlm and munge)"; return 77; }
  done
  export PATH="$PATH:/usr/sbin"
  mkdir -p "$dir/munge" "$dir/ctld" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"
  mungekey --create --keyfile "$dir/munge/munge.key" > /dev/null 2>&1 ||
    { slurm_local_skip "mungekey could not create a key"; return 77; }
  chmod 600 "$dir/munge/munge.key"
  munged --key-file "$dir/munge/munge.key" --socket "$dir/munge/munge.socket" \
    --pid-file "$dir/munge/munged.pid" --log-file "$dir/log/munged.log" \
    --seed-file "$dir/munge/munged.seed" --force > "$dir/log/munged.out" 2>&1 ||
    { slurm_local_skip "munged did not start: $(tail -n 2 "$dir/log/munged.out" "$dir/log/munged.log" 2>/dev/null | tr '\n' ' ')"; return 77; }
  slurm_local_pids+=("$(cat "$dir/munge/munged.pid")")
  local ctld_port slurmd_port
  read -r ctld_port slurmd_port <<< "$(slurm_local_ports)"
  cat > "$dir/slurm.conf" <<CONF
ClusterName=mmusimtest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=2
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -f "$SLURM_CONF" -i > "$dir/log/slurmctld.out" 2>&1 ||
    { slurm_local_skip "slurmctld did not start: $(tail -n 3 "$dir/log/slurmctld.log" 2>/dev/null | tr '\n' ' ')"; return 77; }
  for _ in $(seq 50); do [ -s "$dir/slurmctld.pid" ] && break; sleep 0.1; done
  [ -s "$dir/slurmctld.pid" ] && slurm_local_pids+=("$(cat "$dir/slurmctld.pid")")
  slurmd -f "$SLURM_CONF" -N localhost > "$dir/log/slurmd.out" 2>&1 ||
    { slurm_local_skip "slurmd did not start: $(tail -n 3 "$dir/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"; return 77; }
  for _ in $(seq 50); do [ -s "$dir/slurmd.pid" ] && break; sleep 0.1; done
  [ -s "$dir/slurmd.pid" ] && slurm_local_pids+=("$(cat "$dir/slurmd.pid")")
  # Ready when the node is idle.
  for _ in $(seq 150); do
    if sinfo -h -N -o '%t' 2> /dev/null | grep -q '^idle'; then return 0; fi
    sleep 0.2
  done
  slurm_local_skip "the node did not become idle in 30 s: $(sinfo -h -N -o '%t %E' 2>&1 | head -n 1); $(tail -n 2 "$dir/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"
  return 77
}

slurm_local_stop() {
  local pid
  for pid in "${slurm_local_pids[@]}"; do kill "$pid" 2> /dev/null; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${slurm_local_pids[@]}"; do kill -0 "$pid" 2> /dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${slurm_local_pids[@]}"; do kill -9 "$pid" 2> /dev/null; done
  slurm_local_pids=()
}
