/*
 * routing.h - how an exchange routes a message, as far as a topology file can tell.
 *
 * Used by validate's dead-letter checks (would a dead-lettered message reach a queue?) and by
 * graph. Pure functions.
 */
#ifndef RMQT_ROUTING_H
#define RMQT_ROUTING_H

#include <stdbool.h>

/* AMQP topic matching: words split on '.', '*' is exactly one word, '#' zero or more. */
bool routing_topic_match(const char *pattern, const char *key);

/* Whether a binding with binding_key on an exchange of type xtype could match a message
 * published with routing_key. routing_key NULL means "unknown" (any key). Headers and plugin
 * exchanges cannot be evaluated from the file: they count as "could match". */
bool routing_could_match(const char *xtype, const char *binding_key, const char *routing_key);

#endif
