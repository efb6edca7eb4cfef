# equity.gp - an equity curve from `bt-backtest --equity FILE' as a PNG.
#
#	gnuplot -e "in='eq.csv'; out='eq.png'; sym='PORTFOLIO'" scripts/equity.gp
#	gnuplot -e "in='results/equity.csv'; out='equity.png'; wide=1" \
#	    scripts/equity.gp
#
# sym picks the rows of one symbol (default PORTFOLIO, the summed books).
# The top panel is the equity with the symbol's close on a second axis
# (none for the portfolio), the bottom one the drawdown in percent.
# wide=1 reads the daily job's results/equity.csv instead (time, equity,
# drawdown_pct, then one column per symbol): the portfolio's curve.
if (!exists("in")) in = 'equity.csv'
if (!exists("out")) out = 'equity.png'
if (!exists("sym")) sym = 'PORTFOLIO'
if (!exists("wide")) wide = 0

set terminal pngcairo size 1200,800 noenhanced font ",10"
set output out
set datafile separator ','
set xdata time
set timefmt '%Y-%m-%dT%H:%M:%SZ'
set format x '%Y-%m-%d'
set grid
set key top left
set autoscale xfix

# The --equity file's rows of sym; the job's file has one row per time.
pick(col) = wide ? column(col - 1) : (strcol(2) eq sym) ? column(col) : NaN
if (wide) sym = 'PORTFOLIO'

set multiplot layout 2,1 title sprintf('%s: %s', in, sym)
set size 1,0.68
set origin 0,0.32
set ylabel 'equity'
unset xlabel
if (sym eq 'PORTFOLIO') {
	plot in every ::1 using 1:(pick(3)) with lines lw 2 title 'equity'
} else {
	set y2label 'close'
	set ytics nomirror
	set y2tics
	plot in every ::1 using 1:(pick(3)) with lines lw 2 title 'equity', \
	     in every ::1 using 1:(pick(6)) axes x1y2 with lines \
	     lc rgb '#999999' title 'close'
}
set size 1,0.32
set origin 0,0
unset y2label
unset y2tics
set ylabel 'drawdown %'
set xlabel 'time (UTC)'
plot in every ::1 using 1:(pick(4)) with filledcurves y1=0 lc rgb '#cc4444' title 'drawdown'
unset multiplot
