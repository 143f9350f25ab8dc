"""Alerts: new related coverage, told once to each channel of the config's `alerts:`.

- `run`: the alert run (claims, at most once per article and channel, digests, health
  notices), `--preview` and `--test`;
- `channel`: the interface every channel implements; `registry`: config key -> class;
- `apprise_channel`, `atom_channel`: the two channels;
- `messages`: what a message says; `text`: page text made safe to say;
- `secrets`: ${VAR} expansion and scrubbing; `status`: the states of an article on a
  channel.
"""
