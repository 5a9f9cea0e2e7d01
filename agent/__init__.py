"""The VoicePay voice agent: workflow, tools, dialog policy and call runtime on LiveKit Agents."""
