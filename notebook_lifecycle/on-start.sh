#!/bin/bash
# On start (as root, every start, the first included): the workshop's shell set-up, the labs'
# env.json and the idle auto-stop. Parameters and local overrides: README.md. Never fatal.
# Written for Amazon Linux 2023 notebook instances (platform notebook-al2023-v1): dnf, kernels
# conda_python3/conda_pytorch on Python 3.10. No `set -u`: an unset override must stay empty.
set -o pipefail

WORKSHOP_HOME=${WORKSHOP_HOME:-/home/ec2-user}
SUDO_AS=${SUDO_AS-ec2-user}
IDLE_MINUTES=${IDLE_MINUTES:-60}
# Root's, off the attendee's volume: the attendee cannot edit the auto-stop away.
AUTOSTOP_DIR=${AUTOSTOP_DIR:-/usr/local/lib/workshop}
PATH=$PATH:/usr/local/bin:$WORKSHOP_HOME/anaconda3/bin

# No region is configured for the CLI on a notebook instance: the instance's ARN has it.
METADATA=${RESOURCE_METADATA:-/opt/ml/metadata/resource-metadata.json}
if [ -z "$AWS_DEFAULT_REGION" ] && [ -r "$METADATA" ]; then
    AWS_DEFAULT_REGION=$(sed -n 's/.*"ResourceArn" *: *"arn:[^:]*:sagemaker:\([^:]*\):.*/\1/p' "$METADATA")
    export AWS_DEFAULT_REGION
fi

STATE_DIR=$WORKSHOP_HOME/SageMaker/.workshop
BASHRC=$WORKSHOP_HOME/.bashrc
BLOCK_START='# >>> workshop shell set-up (on-start.sh replaces this block) >>>'
BLOCK_END='# <<< workshop shell set-up <<<'
CRON_MARK='# workshop-autostop'

log() { echo "on-start: $*"; }

give_to_user() { [ -z "$SUDO_AS" ] || chown "$SUDO_AS:$SUDO_AS" "$@"; }

# Runs a command as the notebook user, so what it writes stays the attendee's to repair.
as_user() {
    if [ -n "$SUDO_AS" ]; then
        sudo -u "$SUDO_AS" -H -- "$@"
    else
        "$@"
    fi
}

# The OS image's Python first (why: README.md; 3.9 on AL2023), then the Jupyter server's.
pick_python() {
    local candidate
    for candidate in "$AUTOSTOP_PYTHON" /usr/bin/python3 \
        "$WORKSHOP_HOME/anaconda3/envs/JupyterSystemEnv/bin/python"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# The workshop's ~/.bashrc lines as one marked block, replaced (never appended twice).
set_up_shell() {
    local kept
    kept=$(mktemp) || return 1
    [ -f "$BASHRC" ] || { touch "$BASHRC" && give_to_user "$BASHRC"; }
    awk -v start="$BLOCK_START" -v end="$BLOCK_END" \
        '$0 == start {skip = 1} !skip {print} $0 == end {skip = 0}' "$BASHRC" >"$kept"
    {
        cat "$kept"
        echo "$BLOCK_START"
        cat <<'BASHRC'
if [[ $- == *i* ]]; then
    PS1="\[$(tput setaf 6 2>/dev/null)\]\u@\h:\w $ \[$(tput sgr0 2>/dev/null)\]"
fi
export CLICOLOR=1
export LSCOLORS=ExFxCxDxBxegedabagacad
export EDITOR=vim
export WORKSHOP_ENV_FILE="$HOME/SageMaker/.workshop/env.json"
alias ll='ls -lah'
BASHRC
        echo "$BLOCK_END"
    } >"$BASHRC" # rewritten in place: the file keeps its owner and mode
    rm -f "$kept"
    log "shell set-up written to $BASHRC"
}

# dnf (AL2023 has no yum), in the background: a slow mirror must not hold up the start.
install_htop() {
    local log=$AUTOSTOP_DIR/dnf-htop.log
    if command -v htop >/dev/null; then
        log "htop already installed"
        return 0
    fi
    mkdir -p "$AUTOSTOP_DIR"
    (
        trap '' HUP
        timeout 600 dnf install -y htop >"$log" 2>&1 || echo "dnf install htop failed" >>"$log"
    ) </dev/null >/dev/null 2>&1 &
    log "installing htop in the background (log: $log)"
}

# The conda env behind the conda_python3 kernel. AWS's lifecycle best practices name it
# `python3` under ~ec2-user/anaconda3 (docs.aws.amazon.com/sagemaker/latest/dg/
# nbi-lifecycle-config-install.html); not confirmed for AL2023, so miniconda3 is probed too.
kernel_env_pip() {
    local root
    for root in anaconda3 miniconda3; do
        if [ -x "$WORKSHOP_HOME/$root/envs/python3/bin/pip" ]; then
            echo "$WORKSHOP_HOME/$root/envs/python3/bin/pip"
            return 0
        fi
    done
    return 1
}

# The labs teach the sagemaker SDK v3 (labs/README.md; the pin of
# workshop_artifacts/kernel_locks/notebook-al2023-v1.txt); SageMaker refreshes the kernel envs
# on every start (docs.aws.amazon.com/sagemaker/latest/dg/nbi-add-external.html), and AWS's
# lifecycle best practices install packages from the on-start script, in the background as the
# install outlasts the script's 5 minutes (nbi-lifecycle-config-install.html). ~2 minutes; the
# first lab that needs it is module 5. As ec2-user, who owns the env: root-owned files there
# would stop the attendee from repairing it.
LABS_SDK=${LABS_SDK:-sagemaker==3.27.0}
install_labs_sdk() {
    local pip log=$AUTOSTOP_DIR/pip-sdk.log
    pip=$(kernel_env_pip) || { log "no conda_python3 env found; SDK not pinned" && return 0; }
    mkdir -p "$AUTOSTOP_DIR"
    (
        trap '' HUP
        as_user timeout 900 "$pip" install --quiet "$LABS_SDK" >"$log" 2>&1
    ) </dev/null >/dev/null 2>&1 &
    log "installing the labs' $LABS_SDK in $pip's env in the background (log: $log)"
}

# env.json: the SSM parameter's JSON object if named and readable, else this script's values.
write_environment_file() {
    local python=$1 draft source=environment
    mkdir -p "$STATE_DIR" && give_to_user "$STATE_DIR"
    draft=$(mktemp "$STATE_DIR/.env.json.XXXXXX") || return 1
    if [ -n "$WORKSHOP_SSM_PARAMETER" ]; then
        if timeout 60 aws ssm get-parameter --name "$WORKSHOP_SSM_PARAMETER" \
            --query Parameter.Value --output text >"$draft" &&
            "$python" -c 'import json, sys; assert isinstance(json.load(open(sys.argv[1])), dict)' \
                "$draft"; then
            source="SSM parameter $WORKSHOP_SSM_PARAMETER"
        else
            log "cannot read a JSON object from $WORKSHOP_SSM_PARAMETER; using the environment"
        fi
    fi
    if [ "$source" = environment ]; then
        IDLE_MINUTES=$IDLE_MINUTES "$python" - >"$draft" <<'PYTHON' || { rm -f "$draft" && return 1; }
import json, os
skip = {"WORKSHOP_HOME", "WORKSHOP_SSM_PARAMETER", "WORKSHOP_ENV_FILE"}
env = {k[9:].lower(): v for k, v in os.environ.items() if k.startswith("WORKSHOP_") and k not in skip}
env.setdefault("target", "aws")
env["lab_repositories"] = os.environ.get("LAB_REPOSITORIES", "").split()
env["labs_s3_uri"] = os.environ.get("LABS_S3_URI") or None
env["idle_minutes"] = int(os.environ["IDLE_MINUTES"])
print(json.dumps(env, indent=2, sort_keys=True))
PYTHON
    fi
    chmod 644 "$draft" && give_to_user "$draft" && mv "$draft" "$STATE_DIR/env.json"
    log "wrote $STATE_DIR/env.json from the $source"
}

# Root's crontab, every 5 minutes, replaced (never added twice). Connections are ignored: a
# browser tab left open overnight is the very cost the auto-stop is for.
install_autostop() {
    local python=$1 script=$AUTOSTOP_DIR/autostop.py entry=""
    mkdir -p "$AUTOSTOP_DIR" || return 1
    if [ -n "$AUTOSTOP_PY_GZ_B64" ]; then
        base64 -d <<<"$AUTOSTOP_PY_GZ_B64" | gunzip >"$script" || return 1
    elif [ -f "$(dirname "${BASH_SOURCE[0]}")/autostop.py" ]; then
        cp "$(dirname "${BASH_SOURCE[0]}")/autostop.py" "$script" || return 1
    else
        log "no autostop.py given (render.py adds it); auto-stop not installed"
        return 1
    fi
    if [ "$IDLE_MINUTES" -gt 0 ]; then
        entry="*/5 * * * * PATH=/usr/local/bin:/usr/bin:/bin:$WORKSHOP_HOME/anaconda3/bin"
        entry+=" $python $script --idle-minutes $IDLE_MINUTES --ignore-connections"
        entry+=" >>$AUTOSTOP_DIR/autostop.log 2>&1 $CRON_MARK"
    fi
    { crontab -l 2>/dev/null | grep -vF "$CRON_MARK"; [ -z "$entry" ] || echo "$entry"; } |
        crontab - || return 1
    if [ -n "$entry" ]; then
        log "auto-stop after $IDLE_MINUTES idle minutes, checked every 5 minutes by $python"
    else
        log "auto-stop is off (IDLE_MINUTES=0)"
    fi
}

main() {
    local python
    case $IDLE_MINUTES in
        '' | *[!0-9]*)
            log "IDLE_MINUTES=$IDLE_MINUTES is not a number of minutes; using 60"
            IDLE_MINUTES=60
            ;;
    esac
    set_up_shell || log "shell set-up failed"
    install_htop
    install_labs_sdk
    if ! python=$(pick_python); then
        log "no Python found: no env.json, no auto-stop"
        return 0
    fi
    write_environment_file "$python" || log "env.json not written"
    install_autostop "$python" || log "auto-stop not installed"
}

main
exit 0
