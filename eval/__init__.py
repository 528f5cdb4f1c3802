"""The labelled question sets (JSON lines, see README.md), shipped as package data beside `bot`:
`weserbot bench` asks eval/questions.jsonl in an installed copy too."""
