#!/usr/bin/env zsh
# zsh-complete.zsh SCRIPT LINE: what zsh's own completion system offers for LINE<Tab> once SCRIPT is sourced,
# one candidate per line. It runs an interactive zsh (-f: no user files) in a pseudo-terminal (zpty), types the
# line and a Tab there, and catches the candidates by wrapping `compadd`. After Valodim's zsh-capture-completion.
zmodload zsh/zpty || exit 3
script=$1
init=$(mktemp)
dump=$(mktemp -u)
cat > $init <<INIT
PROMPT=
autoload -Uz compinit
compinit -u -d $dump
source $script
bindkey '^M' undefined-key
bindkey '^J' undefined-key
bindkey '^I' complete-word
null-line () { echo -E - \$'\0' }
compprefuncs=( null-line )
comppostfuncs=( null-line exit )
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
compadd () {
  # Calls that only ask for matches (-O, -A, -D) are not additions: pass them through.
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "\$@"
    return \$?
  fi
  typeset -a __hits
  builtin compadd -A __hits "\$@"
  local h
  for h in \$__hits; do echo -E - "<candidate>\$h</candidate>"; done
}
echo ready
INIT
zpty z zsh -f -i
zpty -w z "source $init"
repeat 50; do
  zpty -r z line
  [[ $line == ready* ]] && break
done
zpty -w z "$2"$'\t'
integer seen=0
while zpty -r z; do :; done | while IFS= read -r line; do
  if [[ $line == *$'\0\r' ]]; then
    (( seen++ )) && break || continue
  fi
  [[ $line == *'<candidate>'*'</candidate>'* ]] && { line=${line#*<candidate>}; echo -E - "${line%</candidate>*}" }
done
rm -f $init $dump
